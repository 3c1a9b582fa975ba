"""The tutorial's three programs, taken out of the seed text (Matloff's PDF, extracted to markdown).

    python3 -m threadlab.tutorial [--seed PATH] write [DIR]   # (re)make services/tutorial/{clnt,srvr,primes}.py
    python3 -m threadlab.tutorial [--seed PATH] check [DIR]   # exit 1 when a committed file differs

Each listing is printed with its line numbers: "27     v += k". A program is the numbered lines
after its introducing sentence ("Here is the client, **clnt.py**:"), across page breaks (a listing
goes on in the next code block when that block's first number follows on), with the number taken
off: the number and the one space after it, and for primes.py, whose numbers the PDF printed in a
field two columns wide ("1  #!/usr/bin/env python", "10     nstarted += 1"), the padding of lines
1-9 too. A markdown escape in a listing (a backslash before punctuation, a ** pair) would be undone
and listed; the seed has none. Then one repair, the only change from the text: primes.py's lines
22-25 get back the four spaces the PDF lost at its page break (see services/tutorial/README.md).

The seed lives outside the repository: SEED, or the THREADLAB_SEED setting. SHA256 holds what the
committed files hash to, so a test can still check them where the seed is missing (in CI).
"""

import argparse
import hashlib
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = Path(os.environ.get("THREADLAB_SEED", "/work/shared/seed/000_6c35ef280c471adf.txt"))
FOLDER = ROOT / "services" / "tutorial"


@dataclass(frozen=True)
class Listing:
    intro: str  # the sentence just before the listing
    lines: int  # how many numbered lines it has
    aligned: bool = False  # numbers padded to the width of the largest one
    reindent: tuple = ()  # (first line, last line, spaces to add): lines the PDF lost indentation on


PROGRAMS = {
    "clnt.py": Listing("Here is the client, **clnt.py**:", 32),
    "srvr.py": Listing("And here is the server, **srvr.py**:", 53),
    "primes.py": Listing("Here is a Python program that finds prime numbers using threads:", 49,
                         aligned=True, reindent=((22, 25, 4),)),
}

# sha256 of the committed services/tutorial files (python3 -m threadlab.tutorial write prints them)
SHA256 = {
    "clnt.py": "77e4ad53302df121f88733819951c73612237070e2c25886a4ab4e5dfc82c67c",
    "srvr.py": "8e0c07333f351c9e176625c87883566ade69f57944965295a5c86910f9adaf98",
    "primes.py": "925e601f9de30f0945b37646e405f8a1ed6ce079b9741eb0679416795b629b9e",
}

FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.M | re.S)
NUMBERED = re.compile(r"^(\d+)(?: (.*))?$")
ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>])")
BOLD = re.compile(r"\*\*(.+?)\*\*")


class SeedError(ValueError):
    """The seed text is not laid out as this module expects."""


def numbered_lines(text, listing):
    """[(number, text after the number, as printed)] of a listing, across its code blocks."""
    start = text.find(listing.intro)
    if start < 0:
        raise SeedError(f"no {listing.intro!r} in the seed")
    found = []
    for block in FENCE.finditer(text, start + len(listing.intro)):
        rows = [line for line in block.group(1).split("\n") if line.strip()]
        numbered = [NUMBERED.match(line) for line in rows]
        if not rows or not all(numbered) or int(numbered[0].group(1)) != len(found) + 1:
            break  # the listing ended: the next block is prose's, or another listing's
        for m in numbered:
            number, rest = int(m.group(1)), m.group(2) or ""
            if number != len(found) + 1:
                raise SeedError(f"line {number} follows line {len(found)} in {listing.intro!r}")
            found.append((number, rest))
        if len(found) >= listing.lines:
            break
    if len(found) != listing.lines:
        raise SeedError(f"{len(found)} numbered lines after {listing.intro!r}, not {listing.lines}")
    return found


def extract(name, seed=None):
    """(the program named name as it should be committed, [the changes from the text, one line each])."""
    listing = PROGRAMS[name]
    text = Path(seed or SEED).read_text(encoding="utf-8")
    width = len(str(listing.lines)) if listing.aligned else 0
    out, changes = [], []
    for number, rest in numbered_lines(text, listing):
        pad = max(width - len(str(number)), 0)
        if rest and pad:
            if not rest.startswith(" " * pad):
                raise SeedError(f"{name} line {number}: expected {pad} space(s) of padding after the number")
            rest = rest[pad:]
        line = rest
        undone = BOLD.sub(r"\1", ESCAPE.sub(r"\1", line))
        if undone != line:
            changes.append(f"line {number}: markdown undone: {line!r} -> {undone!r}")
            line = undone
        for first, last, spaces in listing.reindent:
            if first <= number <= last:
                changes.append(f"line {number}: {spaces} spaces of indentation restored")
                line = " " * spaces + line
        out.append(line)
    return "\n".join(out) + "\n", changes


def sha256(data):
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m threadlab.tutorial", description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=Path, default=SEED, help=f"the seed text ({SEED})")
    ap.add_argument("action", choices=["write", "check"])
    ap.add_argument("folder", nargs="?", type=Path, default=FOLDER)
    args = ap.parse_args(argv)
    if not args.seed.is_file():
        print(f"tutorial: no seed text at {args.seed} (THREADLAB_SEED or --seed)", file=sys.stderr)
        return 2
    differ = 0
    for name in PROGRAMS:
        program, changes = extract(name, args.seed)
        path = args.folder / name
        if args.action == "write":
            path.write_text(program)
            print(f"{path}: {program.count(chr(10))} lines, sha256 {sha256(program)}")
        elif not path.is_file() or path.read_text() != program:
            print(f"{path}: differs from the seed's listing", file=sys.stderr)
            differ = 1
        for change in changes:
            print(f"  {name} {change}")
    return differ


if __name__ == "__main__":
    sys.exit(main())
