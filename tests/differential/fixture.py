"""The files every differential line starts with, laid out in a RAM workspace and
in a temporary host folder alike."""

FILES: dict[str, bytes] = {
    "a.txt": b"hello\nworld\nfoo bar\nHello again\n",
    "nums.txt": b"10\n2\n33\n4\n2\n",
    "data.csv": b"name,age,city\nalice,30,paris\nbob,25,london\ncarol,35,paris\ndave,25,berlin\n",
    "words.txt": b"apple\nbanana\napple\ncherry\nbanana\napple\n",
    "log/app.log": b"INFO start\nERROR disk full\nINFO retry\nWARN slow\nERROR timeout\n",
    "log/db.log": b"INFO connect\nERROR deadlock\n",
    "src/main.py": b"import os\n\ndef main():\n    print('hi')\n",
    "src/util.py": b"def helper(x):\n    return x * 2\n",
    "src/lib/mod.py": b"X = 1\n",
    "data.json": b'{"name":"mirage","tags":["a","b"],"items":[{"id":1,"ok":true},{"id":2,"ok":false}]}\n',
    "empty.txt": b"",
    "noeol.txt": b"no newline",
    "spaces.txt": b"  leading\ttab\ntrailing  \n\n",
    ".hidden": b"secret\n",
    "table.tsv": b"k1\tv1\t1\nk2\tv2\t22\nk3\tv3\t3\n",
}
