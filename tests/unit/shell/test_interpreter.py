"""The interpreter: lists, pipelines, compound commands, functions, redirections."""


def test_and_or_lists_follow_exit_statuses(sh):
    assert sh.run("false && echo no || echo yes").out == "yes\n"
    assert sh.run("true && echo a; false; echo $?").out == "a\n1\n"


def test_unknown_command_is_127_with_mirage_message(sh):
    r = sh.run("frobnicate --now")
    assert r.code == 127
    assert r.err == "mirage: frobnicate: command not found\n"


def test_pipeline_streams_so_an_endless_producer_stops(sh):
    r = sh.run("yes | head -n 3")
    assert r.code == 0 and r.out == "y\ny\ny\n"


def test_pipeline_status_is_the_last_stage(sh):
    assert sh.run("false | true").code == 0
    assert sh.run("true | false").code == 1


def test_pipeline_stages_run_in_subshells(sh):
    assert sh.run("x=1; echo 2 | read x; echo $x").out == "1\n"


def test_subshell_changes_do_not_leak(sh):
    r = sh.run("x=1; (x=2; cd /log; echo $x $PWD); echo $x $PWD")
    assert r.out == "2 /log\n1 /\n"


def test_group_runs_in_the_current_shell(sh):
    assert sh.run("{ x=5; }; echo $x").out == "5\n"


def test_if_elif_else(sh):
    line = "for n in 1 2 3; do if [ $n = 1 ]; then echo one; elif [ $n = 2 ]; then echo two; else echo many; fi; done"
    assert sh.run(line).out == "one\ntwo\nmany\n"


def test_while_until_and_c_style_for(sh):
    assert sh.run("i=0; while [ $i -lt 2 ]; do echo $i; i=$((i+1)); done").out == "0\n1\n"
    assert sh.run("i=0; until [ $i -ge 2 ]; do echo u$i; ((i++)); done").out == "u0\nu1\n"
    assert sh.run("for ((i=3; i>0; i--)); do echo $i; done").out == "3\n2\n1\n"


def test_break_and_continue_with_levels(sh):
    r = sh.run("for a in 1 2; do for b in x y; do [ $b = y ] && continue 2; echo $a$b; done; done")
    assert r.out == "1x\n2x\n"
    assert sh.run("for a in 1 2 3; do [ $a = 2 ] && break; echo $a; done").out == "1\n"


def test_case_with_patterns_and_fallthrough(sh):
    assert sh.run("case log.txt in *.md) echo md;; *.txt|*.log) echo text;; esac").out == "text\n"
    assert sh.run("case a in a) echo 1;& b) echo 2;; c) echo 3;; esac").out == "1\n2\n"


def test_functions_get_positional_parameters_and_return_status(sh):
    r = sh.run('f() { echo "$# $1 $2"; return 4; }; f one "two words"; echo $?')
    assert r.out == "2 one two words\n4\n"


def test_local_variables_are_restored_after_the_function(sh):
    assert sh.run("x=out; f() { local x=in; echo $x; }; f; echo $x").out == "in\nout\n"


def test_recursion_works_and_runaway_recursion_is_stopped(sh):
    assert sh.run("f() { [ $1 -le 0 ] && return; echo $1; f $(( $1 - 1 )); }; f 3").out == "3\n2\n1\n"
    r = sh.run("f() { f; }; f")
    assert r.code != 0 and "nesting" in r.err


def test_exit_ends_the_line_with_its_status(sh):
    r = sh.run("echo a; exit 3; echo b")
    assert (r.code, r.out) == (3, "a\n")


def test_set_e_stops_at_the_first_failure_outside_conditions(sh):
    r = sh.run("set -e; if false; then :; fi; false || true; echo kept; false; echo gone")
    assert (r.code, r.out) == (1, "kept\n")


def test_redirections_write_append_and_read_workspace_files(sh):
    r = sh.run("echo one > /o.txt; echo two >> /o.txt; cat < /o.txt")
    assert r.out == "one\ntwo\n"
    assert sh.read("/o.txt") == b"one\ntwo\n"


def test_stderr_redirections_and_their_order(sh):
    assert sh.run("ls /nope 2>/dev/null; echo $?").out == "2\n"
    assert sh.run("ls /nope 2>&1 | wc -l").out == "1\n"
    r = sh.run("ls /nope 2>&1 >/dev/null")
    assert "No such file" in r.out
    r = sh.run("ls /nope >/f.txt 2>&1; cat /f.txt")
    assert "No such file" in r.out
    r = sh.run("echo both &> /b.txt; cat /b.txt")
    assert r.out == "both\n"


def test_redirect_into_a_missing_folder_fails_the_command_only(sh):
    r = sh.run("echo x > /no/dir/f; echo after $?")
    assert r.out == "after 1\n" and "No such file" in r.err


def test_heredoc_expands_unless_the_delimiter_is_quoted(sh):
    assert sh.run("x=1; cat <<EOF\nv=$x $((x+1))\nEOF").out == "v=1 2\n"
    assert sh.run("cat <<'EOF'\nv=$x\nEOF").out == "v=$x\n"
    assert sh.run("cat <<-EOF\n\tindented\n\tEOF").out == "indented\n"


def test_heredoc_feeding_a_pipeline(sh):
    assert sh.run("cat <<EOF | sort\nb\na\nEOF").out == "a\nb\n"


def test_here_string(sh):
    assert sh.run("tr a-z A-Z <<< 'hi there'").out == "HI THERE\n"


def test_cd_and_pwd_use_the_workspace_cwd(sh):
    assert sh.run("cd /log && pwd && cat app.log | head -1").out == "/log\nINFO start\n"
    r = sh.run("cd /missing")
    assert r.code == 1 and "No such file" in r.err


def test_command_substitution_strips_trailing_newlines_and_sets_status(sh):
    assert sh.run('x=$(printf "a\\n\\n"); echo "[$x]"').out == "[a]\n"
    assert sh.run("x=$(false); echo $?").out == "1\n"


def test_eval_and_source(sh):
    assert sh.run("eval 'x=3; echo $x'").out == "3\n"
    assert sh.run("echo 'y=9' > /s.sh; . /s.sh; echo $y").out == "9\n"


def test_double_bracket_tests(sh):
    assert sh.run('[[ abc == a* && -f /a.txt ]] && echo yes').out == "yes\n"
    assert sh.run('[[ ab12 =~ ^[a-z]+([0-9]+)$ ]] && echo $BASH_REMATCH').out == "ab12\n"
    assert sh.run('[[ -n "" ]]; echo $?').out == "1\n"


def test_arithmetic_errors_are_reported_not_raised(sh):
    r = sh.run("echo $((1/0)); echo next")
    assert "division by 0" in r.err and r.out == "next\n"


def test_a_missing_starting_directory_is_reported(sh):
    r = sh.run("pwd", cwd="/nope")
    assert r.code == 1 and "cwd /nope" in r.err and r.out == ""


def test_a_session_whose_directory_vanished_starts_at_the_root(sh):
    from mirage.workspace.session import Session
    session = Session("s")
    sh.run("mkdir /gone; cd /gone", session=session)
    sh.run("rmdir /gone")
    r = sh.run("pwd", session=session)
    assert r.out == "/\n" and "no longer exists" in r.err and session.cwd == "/"
