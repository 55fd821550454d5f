"""sed [-n] [-E|-r] [-i[SUF]] [-s] [-e SCRIPT]... [-f FILE] [SCRIPT] [FILE]...

Addresses: N, $, /RE/, \\cREc, FIRST~STEP, ranges (A,B and A,+N), '!'.
Commands: s (g p i N flags, & \\1..\\9 \\n \\U \\L \\E), p P d D q Q n N a i c y = l
h H g G x, { }, labels with b and t/T, r FILE, w FILE."""

from __future__ import annotations

import re

from mirage.workspace.shell.commands._base import Usage, dec, enc
from mirage.workspace.shell.patterns import compile_user_regex, posix_regex, tabs_escaped
from mirage.workspace.vfs.base import VfsError

NAMES = ("sed",)


class SedError(Exception):
    pass


class Cmd:
    def __init__(self, name: str):
        self.name = name
        self.addr1 = None
        self.addr2 = None
        self.negate = False
        self.arg = None
        self.block_end = None
        self.range_active = False
        self.range_end_line = None
        self.zero_done = False


class Script:
    def __init__(self, text: str, extended: bool):
        self.text = text
        self.i = 0
        self.extended = extended
        self.cmds: list[Cmd] = []
        self.labels: dict[str, int] = {}
        self.last_regex = None
        self._parse()

    def _regex(self, body: str, flags: str = "") -> re.Pattern | None:
        if body == "":
            return None
        try:
            return compile_user_regex(posix_regex(tabs_escaped(body), self.extended),
                              re.I if "I" in flags or "i" in flags else 0)
        except re.error as exc:
            raise SedError(f"-e expression #1, char {self.i}: {exc}") from None

    def _peek(self) -> str:
        return self.text[self.i] if self.i < len(self.text) else ""

    def _skip_ws(self, newlines: bool = True) -> None:
        while self.i < len(self.text) and (self.text[self.i] in " \t" or
                                           (newlines and self.text[self.i] in "\n;")):
            self.i += 1

    def _delimited(self, delim: str) -> str:
        out = []
        while self.i < len(self.text):
            c = self.text[self.i]
            if c == "\\" and self.i + 1 < len(self.text):
                nxt = self.text[self.i + 1]
                if nxt == delim and delim not in "&":
                    out.append(nxt if delim not in ".*[]^$" else "\\" + nxt)
                elif nxt == "n":
                    out.append("\\n")             # kept escaped: the regex translator maps it
                else:
                    out.append(c + nxt)
                self.i += 2
                continue
            if c == "[" :
                # copy a bracket expression verbatim (delimiters inside are literal)
                j = self.i + 1
                if j < len(self.text) and self.text[j] == "^":
                    j += 1
                if j < len(self.text) and self.text[j] == "]":
                    j += 1
                while j < len(self.text) and self.text[j] != "]":
                    if self.text.startswith("[:", j):
                        k = self.text.find(":]", j + 2)
                        j = k + 2 if k > 0 else j + 1
                        continue
                    j += 1
                if j < len(self.text) and delim != "]":
                    out.append(self.text[self.i:j + 1])
                    self.i = j + 1
                    continue
            if c == delim:
                self.i += 1
                return "".join(out)
            if c == "\n" and delim != "\n":
                raise SedError("unterminated address regex")
            out.append(c)
            self.i += 1
        raise SedError("unterminated `s' command" if delim else "unterminated")

    def _address(self):
        c = self._peek()
        if c.isdigit():
            m = re.match(r"(\d+)(?:~(\d+))?", self.text[self.i:])
            self.i += m.end()
            if m.group(2) is not None:
                return ("step", int(m.group(1)), int(m.group(2)))
            return ("line", int(m.group(1)))
        if c == "$":
            self.i += 1
            return ("last",)
        if c == "/" or c == "\\":
            if c == "\\":
                self.i += 1
                delim = self._peek()
            else:
                delim = "/"
            self.i += 1
            body = self._delimited(delim)
            flags = ""
            while self._peek() in ("I", "M"):
                flags += self._peek()
                self.i += 1
            return ("re", self._regex(body, flags))
        return None

    def _text_arg(self) -> str:
        # a\ text, a text (GNU one-liner); continuation lines end in backslash
        self._skip_ws(newlines=False)
        if self._peek() == "\\":
            self.i += 1
            if self._peek() == "\n":
                self.i += 1
        out = []
        while self.i < len(self.text):
            c = self.text[self.i]
            if c == "\\" and self.i + 1 < len(self.text):
                out.append(self.text[self.i + 1])
                self.i += 2
                continue
            if c == "\n":
                self.i += 1
                break
            out.append(c)
            self.i += 1
        return "".join(out)

    def _label(self) -> str:
        self._skip_ws(newlines=False)
        m = re.match(r"[^;\n}]*", self.text[self.i:])
        self.i += m.end()
        return m.group(0).strip()

    def _filename(self) -> str:
        self._skip_ws(newlines=False)
        m = re.match(r"[^\n]*", self.text[self.i:])
        self.i += m.end()
        return m.group(0)

    def _parse(self) -> None:
        stack: list[int] = []
        while True:
            self._skip_ws()
            if self.i >= len(self.text):
                break
            if self._peek() == "#":
                while self.i < len(self.text) and self.text[self.i] != "\n":
                    self.i += 1
                continue
            addr1 = self._address()
            addr2 = None
            if addr1 is not None and self._peek() == ",":
                self.i += 1
                if self._peek() == "+":
                    self.i += 1
                    m = re.match(r"\d+", self.text[self.i:])
                    if not m:
                        raise SedError("expected number after +")
                    self.i += m.end()
                    addr2 = ("plus", int(m.group(0)))
                elif self._peek() == "~":
                    self.i += 1
                    m = re.match(r"\d+", self.text[self.i:])
                    self.i += m.end()
                    addr2 = ("mult", int(m.group(0)))
                else:
                    addr2 = self._address()
                    if addr2 is None:
                        raise SedError("unexpected `,'")
            self._skip_ws(newlines=False)
            negate = False
            while self._peek() == "!":
                negate = True
                self.i += 1
                self._skip_ws(newlines=False)
            name = self._peek()
            if not name:
                raise SedError("missing command")
            self.i += 1
            cmd = Cmd(name)
            cmd.addr1, cmd.addr2, cmd.negate = addr1, addr2, negate
            if name == "{":
                stack.append(len(self.cmds))
            elif name == "}":
                if not stack:
                    raise SedError("unexpected `}'")
                self.cmds[stack.pop()].block_end = len(self.cmds)
            elif name == "s":
                delim = self._peek()
                if not delim or delim in "\n\\":
                    raise SedError("unterminated `s' command")
                self.i += 1
                pattern = self._delimited(delim)
                replacement = self._delimited(delim)
                flags = ""
                while self._peek() and self._peek() in "gpiIme0123456789":
                    flags += self._peek()
                    self.i += 1
                wfile = None
                if self._peek() == "w":
                    self.i += 1
                    wfile = self._filename()
                count = int(re.sub(r"\D", "", flags) or 0)
                cmd.arg = (self._regex(pattern, flags), replacement, "g" in flags, "p" in flags,
                           count, wfile)
            elif name == "y":
                delim = self._peek()
                self.i += 1
                src = self._delimited(delim)
                dst = self._delimited(delim)
                src = src.replace("\\n", "\n").replace("\\\\", "\\")
                dst = dst.replace("\\n", "\n").replace("\\\\", "\\")
                if len(src) != len(dst):
                    raise SedError("strings for `y' command are different lengths")
                cmd.arg = str.maketrans(src, dst)
            elif name in "aic":
                cmd.arg = self._text_arg()
            elif name in "btT":
                cmd.arg = self._label()
            elif name == ":":
                label = self._label()
                if not label:
                    raise SedError("\":\" lacks a label")
                self.labels[label] = len(self.cmds)
            elif name in "rRwW":
                cmd.arg = self._filename()
            elif name in "qQ":
                self._skip_ws(newlines=False)
                m = re.match(r"\d+", self.text[self.i:])
                cmd.arg = int(m.group(0)) if m else 0
                if m:
                    self.i += m.end()
            elif name in "pPdDnNhHgGxl=ze":
                pass
            else:
                raise SedError(f"unknown command: `{name}'")
            self.cmds.append(cmd)
            self._skip_ws(newlines=False)
            if self._peek() in (";", "\n"):
                self.i += 1
            elif self._peek() == "}" or self._peek() == "" or self._peek() == "#":
                pass
            elif name not in "{}:btTaicrRwW":
                raise SedError("extra characters after command")
        if stack:
            raise SedError("unmatched `{'")


def _expand_replacement(template: str, m: re.Match) -> str:
    out: list[str] = []
    case = None
    one = None
    i = 0

    def emit(text: str) -> None:
        nonlocal one
        if not text:
            return
        if one == "u":
            text = text[0].upper() + text[1:]
            one = None
        elif one == "l":
            text = text[0].lower() + text[1:]
            one = None
        if case == "U":
            text = text.upper()
        elif case == "L":
            text = text.lower()
        out.append(text)

    while i < len(template):
        c = template[i]
        if c == "\\" and i + 1 < len(template):
            d = template[i + 1]
            i += 2
            if d.isdigit():
                emit(m.group(int(d)) or "" if int(d) <= (m.re.groups) else "")
            elif d == "n":
                emit("\n")
            elif d == "t":
                emit("\t")
            elif d in "UL":
                case = d
            elif d == "E":
                case = None
            elif d in "ul":
                one = d
            else:
                emit(d)
            continue
        if c == "&":
            emit(m.group(0))
        else:
            emit(c)
        i += 1
    return "".join(out)


class Runner:
    def __init__(self, inv, script: Script, quiet: bool):
        self.inv = inv
        self.script = script
        self.quiet = quiet
        self.hold = ""
        self.out: list[str] = []
        self.quit_status = None
        self.wfiles: dict[str, list[str]] = {}

    def _match_addr(self, addr, line_no: int, is_last: bool, space: str) -> bool:
        kind = addr[0]
        if kind == "line":
            return line_no == addr[1]
        if kind == "last":
            return is_last
        if kind == "step":
            first, step = addr[1], addr[2]
            return line_no == first if step <= 0 else line_no >= first and (line_no - first) % step == 0
        if kind == "re":
            regex = addr[1] or self.script.last_regex
            if regex is None:
                raise SedError("no previous regular expression")
            self.script.last_regex = regex
            return regex.search(space) is not None
        return False

    def _selected(self, cmd: Cmd, line_no: int, is_last: bool, space: str) -> bool:
        if cmd.addr1 is None:
            result = True
        elif cmd.addr2 is None:
            result = self._match_addr(cmd.addr1, line_no, is_last, space)
        elif cmd.range_active:
            a2 = cmd.addr2
            if a2[0] == "line":
                end = line_no >= a2[1]
                result = True
                if line_no > a2[1]:
                    end = True
            elif a2[0] == "plus":
                end = line_no >= cmd.range_end_line
                result = True
            elif a2[0] == "mult":
                end = line_no % a2[1] == 0 if a2[1] else True
                result = True
            else:
                end = self._match_addr(a2, line_no, is_last, space)
                result = True
            if end:
                cmd.range_active = False
        elif cmd.addr1 == ("line", 0) and cmd.addr2[0] == "re":
            # GNU '0,/re/': the range is open before line 1, so /re/ may end it on line 1
            if cmd.zero_done:
                result = False
            else:
                result = True
                if self._match_addr(cmd.addr2, line_no, is_last, space):
                    cmd.zero_done = True
        else:
            result = self._match_addr(cmd.addr1, line_no, is_last, space)
            if result:
                a2 = cmd.addr2
                if a2[0] == "line":
                    cmd.range_active = a2[1] > line_no
                elif a2[0] == "plus":
                    cmd.range_end_line = line_no + a2[1]
                    cmd.range_active = a2[1] > 0
                elif a2[0] == "mult":
                    cmd.range_active = not (a2[1] <= 0 or line_no % a2[1] == 0)
                elif a2[0] == "last":
                    cmd.range_active = not is_last
                else:
                    cmd.range_active = True
        return result != cmd.negate

    async def run(self, lines: list[str], trailing_newline: bool) -> None:
        cmds = self.script.cmds
        idx = 0
        n = len(lines)
        while idx < n:
            await self.inv.tick()
            space = lines[idx]
            line_no = idx + 1
            idx += 1
            append_queue: list[str] = []
            pc = 0
            substituted = False
            deleted = False
            restart = False
            while pc < len(cmds):
                cmd = cmds[pc]
                if cmd.name == "}":
                    pc += 1
                    continue
                if cmd.name == ":":
                    pc += 1
                    continue
                if not self._selected(cmd, line_no, idx == n, space):
                    pc = (cmd.block_end + 1) if cmd.name == "{" else pc + 1
                    continue
                name = cmd.name
                pc += 1
                if name == "{":
                    continue
                if name == "s":
                    regex, template, glob, pflag, count, wfile = cmd.arg
                    regex = regex or self.script.last_regex
                    if regex is None:
                        raise SedError("no previous regular expression")
                    self.script.last_regex = regex
                    result, made = _substitute(regex, template, space, glob, count)
                    if made:
                        space = result
                        substituted = True
                        if pflag:
                            self.out.append(space + "\n")
                        if wfile:
                            self.wfiles.setdefault(wfile, []).append(space + "\n")
                elif name == "p":
                    self.out.append(space + "\n")
                elif name == "P":
                    self.out.append(space.split("\n", 1)[0] + "\n")
                elif name == "d":
                    deleted = True
                    break
                elif name == "D":
                    if "\n" in space:
                        space = space.split("\n", 1)[1]
                        restart = True
                        break
                    deleted = True
                    break
                elif name == "n":
                    if not self.quiet:
                        self.out.append(space + "\n")
                    self._flush_appends(append_queue)
                    if idx >= n:
                        deleted = True
                        break
                    space = lines[idx]
                    idx += 1
                    line_no = idx
                elif name == "N":
                    if idx >= n:
                        break
                    space = space + "\n" + lines[idx]
                    idx += 1
                    line_no = idx
                elif name == "a":
                    append_queue.append(cmd.arg + "\n")
                elif name == "i":
                    self.out.append(cmd.arg + "\n")
                elif name == "c":
                    if cmd.addr2 is None or not cmd.range_active:
                        self.out.append(cmd.arg + "\n")
                    deleted = True
                    break
                elif name == "y":
                    space = space.translate(cmd.arg)
                elif name == "=":
                    self.out.append(f"{line_no}\n")
                elif name == "l":
                    self.out.append(_escape_l(space) + "$\n")
                elif name == "h":
                    self.hold = space
                elif name == "H":
                    self.hold = self.hold + "\n" + space
                elif name == "g":
                    space = self.hold
                elif name == "G":
                    space = space + "\n" + self.hold
                elif name == "x":
                    space, self.hold = self.hold, space
                elif name == "z":
                    space = ""
                elif name in "btT":
                    jump = name == "b" or (name == "t" and substituted) or (name == "T" and not substituted)
                    if name in "tT" and jump or name == "t":
                        substituted = False if jump else substituted
                    if jump:
                        if cmd.arg:
                            if cmd.arg not in self.script.labels:
                                raise SedError(f"can't find label for jump to `{cmd.arg}'")
                            pc = self.script.labels[cmd.arg]
                        else:
                            pc = len(cmds)
                elif name in "qQ":
                    if name == "q" and not self.quiet:
                        self.out.append(space + "\n")
                    self._flush_appends(append_queue)
                    self.quit_status = cmd.arg
                    return
                elif name in "rR":
                    try:
                        data = dec(await self.inv.read_file(cmd.arg))
                        append_queue.append(data if data.endswith("\n") or not data else data + "\n")
                    except VfsError:
                        pass
                elif name in "wW":
                    self.wfiles.setdefault(cmd.arg, []).append(space + "\n")
            if restart:
                lines.insert(idx, space)        # D: restart the cycle with what is left
                n += 1
                self._flush_appends(append_queue)
                continue
            if not deleted and not self.quiet:
                self.out.append(space + "\n")
            self._flush_appends(append_queue)
        if self.out and not trailing_newline and self.out[-1].endswith("\n"):
            self.out[-1] = self.out[-1][:-1]

    def _flush_appends(self, queue: list[str]) -> None:
        self.out.extend(queue)
        queue.clear()


def _escape_l(text: str) -> str:
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 32 or ord(ch) == 127:
            out.append(f"\\{ord(ch):03o}")
        else:
            out.append(ch)
    return "".join(out)


def _substitute(regex: re.Pattern, template: str, text: str, glob: bool, count: int):
    out = []
    pos = 0
    n = 0
    made = False
    last_empty_end = -1
    for m in regex.finditer(text):
        if m.start() == m.end() and m.start() == last_empty_end:
            continue
        n += 1
        if (count and n < count) or (made and not glob):
            continue
        out.append(text[pos:m.start()])
        out.append(_expand_replacement(template, m))
        pos = m.end()
        made = True
        last_empty_end = m.end()
        if not glob and (not count or n >= count):
            break
    if not made:
        return text, False
    out.append(text[pos:])
    return "".join(out), True


async def run(inv) -> int:
    args = list(inv.args)
    scripts: list[str] = []
    quiet = extended = separate = False
    in_place = None
    files: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            files.extend(args[i + 1:])
            break
        if a in ("-e", "--expression"):
            if i + 1 >= len(args):
                raise Usage("option requires an argument -- 'e'")
            scripts.append(args[i + 1])
            i += 2
            continue
        if a.startswith("--expression="):
            scripts.append(a.split("=", 1)[1])
        elif a in ("-f", "--file"):
            scripts.append(dec(await inv.read_file(args[i + 1])).rstrip("\n"))
            i += 2
            continue
        elif a in ("-n", "--quiet", "--silent"):
            quiet = True
        elif a in ("-E", "-r", "--regexp-extended"):
            extended = True
        elif a in ("-s", "--separate"):
            separate = True
        elif a.startswith("-i") or a.startswith("--in-place"):
            in_place = a[2:] if a.startswith("-i") else a.partition("=")[2]
        elif a.startswith("-") and len(a) > 1 and not a.startswith("--"):
            for c in a[1:]:
                if c == "n":
                    quiet = True
                elif c in "Er":
                    extended = True
                elif c == "s":
                    separate = True
                elif c == "i":
                    in_place = ""
                elif c == "e":
                    if i + 1 >= len(args):
                        raise Usage("option requires an argument -- 'e'")
                    scripts.append(args[i + 1])
                    i += 1
                    break
                else:
                    raise Usage(f"invalid option -- '{c}'")
        else:
            files.append(a)
        i += 1
    if not scripts:
        if not files:
            raise Usage("no script specified")
        scripts.append(files.pop(0))
    try:
        script = Script("\n".join(scripts), extended)
    except SedError as exc:
        await inv.error(f"-e expression #1: {exc}")
        return 1
    status = 0
    if in_place is not None:
        if not files:
            await inv.error("no input files")
            return 1
        for name in files:
            try:
                data = dec(await inv.read_file(name))
            except VfsError as exc:
                await inv.error(f"can't read {name}: {exc.detail}")
                status = 2
                continue
            for cmd in script.cmds:
                cmd.range_active = False
                cmd.zero_done = False
            runner = Runner(inv, script, quiet)
            try:
                await runner.run(_lines(data), data.endswith("\n") or not data)
            except SedError as exc:
                await inv.error(f"-e expression #1: {exc}")
                return 1
            if in_place:
                await inv.fs.write(inv.path(name + in_place), enc(data))
            await inv.fs.write(inv.path(name), enc("".join(runner.out)))
            await _write_wfiles(inv, runner)
        return status
    chunks: list[str] = []
    for name in files or ["-"]:
        try:
            chunks.append(dec(await inv.read_file(name)))
        except VfsError as exc:
            await inv.error(f"can't read {name}: {exc.detail}")
            status = 2
    text = "".join(c if c.endswith("\n") or i == len(chunks) - 1 else c + "\n"
                   for i, c in enumerate(chunks))
    runner = Runner(inv, script, quiet)
    try:
        if separate:
            for chunk in chunks:
                await runner.run(_lines(chunk), chunk.endswith("\n"))
        else:
            await runner.run(_lines(text), text.endswith("\n") or not text)
    except SedError as exc:
        await inv.out(enc("".join(runner.out)))
        await inv.error(f"-e expression #1: {exc}")
        return 1
    await inv.out(enc("".join(runner.out)))
    await _write_wfiles(inv, runner)
    if runner.quit_status:
        return runner.quit_status
    return status


async def _write_wfiles(inv, runner: Runner) -> None:
    for name, lines in runner.wfiles.items():
        if name == "/dev/stdout":
            await inv.out(enc("".join(lines)))
        else:
            await inv.fs.write(inv.path(name), enc("".join(lines)))


def _lines(text: str) -> list[str]:
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines
