"""docs/claims.md, live: the tutorial's claims about its own Python, 2.7, and about the lab's two Python 3 builds.

One `docker run` of each base image (no network, this checkout's services/ over /app, as scripts/race runs them)
prints what that interpreter says of itself, as one JSON line: its turn (check interval or switch interval), its
thread modules, its GIL; on 2.7 also the byte code of the tutorial's srvr.py lines 27 and 32, its chr and ord, what
becomes of a thread when the main thread ends, and what `python -m pdb` does with a breakpoint in a thread. Facts,
not timings: nothing here depends on the machine's load. Three containers, a few seconds.
"""

import pytest

from threadlab import race

BASES = {"3.11": ("threadlab-base:3.11", "scripts/build-base"), "ft": ("threadlab-base:ft", "scripts/build-ft-base"),
         "2.7": ("threadlab-py2-base", "scripts/build-py2-base")}

PROBE3 = """
import json, sys
facts = {"version": sys.version.split()[0], "gil": getattr(sys, "_is_gil_enabled", lambda: True)(),
         "switchinterval": sys.getswitchinterval(), "setcheckinterval": hasattr(sys, "setcheckinterval"),
         "pthread": sys.thread_info.name}
try:
    import thread  # noqa: F401
    facts["thread"] = "importable"
except ImportError as e:
    facts["thread"] = type(e).__name__
print(json.dumps(facts))
"""

# Python 2.7: a program whose only thread but main runs line 3; pdb is asked to stop there, then the main's line 8
PDB_PROGRAM = ("import threading\\ndef dowork(tn):\\n    x = tn * 2\\n    print 'thread', tn, 'done', x\\n"
               "t = threading.Thread(target=dowork, args=(0,))\\nt.start()\\nt.join()\\ny = 1\\nprint 'main done'\\n")
PROBE2 = """
import dis, json, subprocess, sys, thread, threading
facts = {"version": sys.version.split()[0], "checkinterval": sys.getcheckinterval(),
         "setcheckinterval": hasattr(sys, "setcheckinterval"), "threading": hasattr(threading, "Thread")}
lock = thread.allocate_lock()
facts["lock"] = [lock.locked(), lock.acquire(), lock.locked()]
facts["chr_ord"] = all(ord(chr(i)) == i for i in range(256))
try:
    chr(256)
    facts["chr256"] = "no error"
except ValueError as e:
    facts["chr256"] = str(e)

# the byte code of serveclient, the tutorial's srvr.py lines 19-33, by line: [[opname, argument], ...]
code = compile(open("/app/tutorial/srvr.py").read(), "srvr.py", "exec")
fn = [c for c in code.co_consts if getattr(c, "co_name", "") == "serveclient"][0]
starts, co, i, line, by = dict(dis.findlinestarts(fn)), fn.co_code, 0, None, {}
while i < len(co):
    op, line = ord(co[i]), starts.get(i, line)
    arg = None
    if op >= dis.HAVE_ARGUMENT:
        n = ord(co[i + 1]) + 256 * ord(co[i + 2])
        arg = fn.co_names[n] if op in dis.hasname else fn.co_varnames[n] if op in dis.haslocal else n
        i += 3
    else:
        i += 1
    by.setdefault(line, []).append([dis.opname[op], arg])
facts["line27"], facts["line32"] = by[27], by[32]

def run(args, stdin=""):
    p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return p.communicate(stdin)[0]

facts["main_exit"] = run([sys.executable, "-c", "import thread\\nl = thread.allocate_lock()\\nl.acquire()\\n"
                          "def child(l=l):\\n    l.acquire()\\n    print 'child ran'\\n"
                          "thread.start_new_thread(child, ())\\nprint 'main done'\\n"])
open("/tmp/buggyprog.py", "w").write("%s")
facts["pdb"] = {str(n): run([sys.executable, "-m", "pdb", "/tmp/buggyprog.py"],
                            "break /tmp/buggyprog.py:%%d\\ncontinue\\ncontinue\\n" %% n) for n in (3, 8)}
print json.dumps(facts)
""" % PDB_PROGRAM


def probe(name):
    image, build = BASES[name]
    if not race.image_exists(image):
        pytest.fail(f"no {image}: {build} makes it (scripts/test does, first)", pytrace=False)
    return race.run_in(image, race.SERVICES, "python" if name == "2.7" else "python3",
                       PROBE2 if name == "2.7" else PROBE3, timeout=120)


@pytest.fixture(scope="module")
def py2(docker_engine):
    return probe("2.7")


@pytest.mark.parametrize("name, gil", [("3.11", True), ("ft", False)])
def test_python_3_turns_are_time_and_thread_is_gone(docker_engine, name, gil):
    """On the lab's 3.11 and free-threaded 3.13: no sys.setcheckinterval, a 5 ms switch interval, no module thread;
    pthreads underneath; the GIL on 3.11 only."""
    facts = probe(name)
    assert facts["version"].startswith("3.11." if name == "3.11" else "3.13."), facts
    assert (facts["gil"], facts["setcheckinterval"], facts["switchinterval"]) == (gil, False, 0.005)
    assert (facts["thread"], facts["pthread"]) == ("ModuleNotFoundError", "pthread")


def test_python_2_7_counts_turns_in_byte_codes_settable_by_setcheckinterval(py2):
    """Footnote 4: Python 2.7 switches every 100 byte codes (the tutorial's 2.2: 10), sys.setcheckinterval sets it."""
    assert py2["version"].startswith("2.7.")
    assert (py2["checkinterval"], py2["setcheckinterval"]) == (100, True)


def test_python_2_7_has_thread_and_threading_and_a_new_lock_is_unlocked(py2):
    """Section 3: both modules; line 41's lock starts unlocked, the first acquire takes it."""
    assert py2["threading"] and py2["lock"] == [False, True, True]


def test_python_2_7_sends_0_to_255_in_one_byte_and_no_more(py2):
    """Lines 22-23 and footnote 9: ord(chr(k)) == k for every k to 255; chr(256) is refused, as srvr.py's line 29
    is when v passes 255."""
    assert py2["chr_ord"] and py2["chr256"] == "chr() arg not in range(256)"


def test_python_2_7_compiles_line_27_to_four_byte_codes(py2):
    """Line 27, `v += k`: read v, read k, add, write v (the tutorial: "maybe two or three"); line 32 likewise."""
    assert py2["line27"] == [["LOAD_GLOBAL", "v"], ["LOAD_FAST", "k"], ["INPLACE_ADD", None], ["STORE_GLOBAL", "v"]]
    assert [op for op, _ in py2["line32"]] == ["LOAD_GLOBAL", "LOAD_CONST", "INPLACE_SUBTRACT", "STORE_GLOBAL"]


def test_python_2_7_main_exit_ends_a_thread_modules_thread(py2):
    """Footnote 11, on Linux: the main thread ends, and a thread.start_new_thread thread still blocked ends with it.

    The child holds its lock as an argument: 2.7's exit sets the module's globals to None, and a child that had not
    yet reached `l.acquire()` then ran it on None (an AttributeError printed after "main done", seen here once)."""
    assert py2["main_exit"] == "main done\n"


def test_python_2_7_pdb_stops_in_the_main_thread_not_in_a_child(py2):
    """Section 6: `python -m pdb prog.py`: a breakpoint on a line only a child thread runs is never hit."""
    child, main = py2["pdb"]["3"], py2["pdb"]["8"]
    assert "thread 0 done 0" in child and "main done" in child and "buggyprog.py(3)dowork()" not in child
    assert "buggyprog.py(8)<module>()" in main
