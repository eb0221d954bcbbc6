"""Memory of the readers as files grow: every format streams (issue 12; design.md §9).

Usage: python bench/formats.py [N]   (default 50000; each format at N and 4N records)

Writes a synthetic file of each format with `edcs sample` (UTF-16 and .zip made from its CSV),
then reads it in a fresh process through the same detect + read_file + validator as
`edcs validate`, and prints the records, the seconds and the reading process's peak memory. A
flat reader shows about the same peak at N and 4N; a reader that holds the file grows with it.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

EDCS = str(Path(sys.executable).parent / "edcs")
READ = """
import resource, sys, time
from pathlib import Path
from edcs.offline import validate_file
from shared.catalog.loader import default_catalog
start = time.perf_counter()
report = validate_file(Path(sys.argv[1]), sys.argv[2], default_catalog(),
                       institution_id=sys.argv[3])
took = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{report.records} {took:.1f} {peak:.0f} {report.accepted}")
"""
CASES = [  # (label, collection, sample format, file name, institution)
    ("SENR csv", "SENR", "csv", "senr.csv", "1964733"),
    ("SENR utf-16", "SENR", "csv", "senr16.csv", "1964733"),
    ("SENR xml", "SENR", "xml", "senr.xml", "1964733"),
    ("SENR xlsx", "SENR", "xlsx", "senr.xlsx", "1964733"),
    ("ODE-SSID fixed", "ODE-SSID", "fixed", "ssid.smf", "2180"),
    ("ODE-SSID zip", "ODE-SSID", "csv", "ssid.zip", "2180"),
    ("DISC-SCH fixed", "DISC-SCH", "fixed", "EUSCHDISCDATA1.txt", "0000000"),
]


def make(work: Path, code: str, fmt: str, name: str, n: int) -> Path:
    path = work / name
    plain = work / ("plain." + ("csv" if fmt == "csv" else name.rsplit(".", 1)[1]))
    target = plain if name.endswith((".zip", "16.csv")) else path
    subprocess.run([EDCS, "sample", code, str(n), "--format", fmt, "--out", str(target)],
                   check=True)
    if name.endswith("16.csv"):
        path.write_bytes(b"\xff\xfe" + plain.read_text().encode("utf-16-le"))
    elif name.endswith(".zip"):
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(plain, "ssid.csv")
    return path


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    print(f"{'format':<16} {'records':>9} {'MB':>7} {'s':>6} {'peak RSS MB':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        for label, code, fmt, name, institution in CASES:
            for size in (n, 4 * n):
                work = Path(tmp) / f"{label.replace(' ', '-')}-{size}"
                work.mkdir()
                path = make(work, code, fmt, name, size)
                out = subprocess.run([sys.executable, "-c", READ, str(path), code, institution],
                                     capture_output=True, text=True, check=True).stdout.split()
                mb = path.stat().st_size / 1e6
                print(f"{label:<16} {out[0]:>9} {mb:>7.1f} {out[1]:>6} {out[2]:>12}"
                      f"{'' if out[3] == 'True' else '  (rejected)'}")


if __name__ == "__main__":
    main()
