def test_cat_concatenates_files_and_stdin(sh):
    assert sh.run("echo in | cat /nums.txt - ").out == "3\n1\n2\nin\n"


def test_cat_number_lines(sh):
    assert sh.run("cat -n /nums.txt").out == "     1\t3\n     2\t1\n     3\t2\n"


def test_cat_missing_file_reports_and_continues(sh):
    r = sh.run("cat /nope /nums.txt")
    assert r.code == 1 and r.out == "3\n1\n2\n" and r.err == "cat: /nope: No such file or directory\n"


def test_cat_directory_is_an_error(sh):
    r = sh.run("cat /log")
    assert r.code == 1 and "Is a directory" in r.err
