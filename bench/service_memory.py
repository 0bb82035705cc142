"""By hand: the service's memory through the hostile uploads of issue 13 (run from the repository root).

Starts ``hegui serve --workers N`` on a free loopback port (bench/run_all.py's harness), uploads
every hostile file of ``tests/hostile.py`` and the example, ``--rounds`` times from ``--clients``
concurrent clients, and prints each answer's status and error code and the peak RSS of the server
process, of the largest worker and of the whole process tree (sampled from /proc), with the load
average. The bound a reader can rely on is the address-space caps (1.5 GiB for the server, as for
every ``hegui`` command, and ``--worker-memory-mb`` per worker); this shows what is really used.

    python bench/service_memory.py [--workers 2] [--clients 2] [--rounds 2] [--via api|workbench]

``--via workbench`` sends each file through the reviewer's pages instead (``POST /upload``, then its
review page, which checks it), with the server's review database in a temporary folder.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

import hostile  # noqa: E402  (tests/hostile.py, by path)
import run_all  # noqa: E402  (bench/run_all.py, by path)


def upload(port: int, path: Path, via: str = "api") -> tuple[int, str, float]:
    boundary = uuid.uuid4().hex
    field = "files" if via == "workbench" else "file"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{path.name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    body = head + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    started = time.perf_counter()
    target = "/upload" if via == "workbench" else "/v1/check"
    conn.request("POST", target, body=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    answer = conn.getresponse()
    data = answer.read()
    if via == "workbench" and answer.status == 303:  # stored: its review page checks it
        conn.request("GET", answer.getheader("Location") or "/")
        answer = conn.getresponse()
        answer.read()
        conn.close()
        return answer.status, "", time.perf_counter() - started
    conn.close()
    code = ""
    if answer.status != 200:
        try:
            code = json.loads(data)["error"]["code"]
        except (ValueError, KeyError):
            code = "?"
    return answer.status, code, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--via", choices=("api", "workbench"), default="api")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hegui-service-memory-") as tmp:
        folder = Path(tmp)
        files = [
            hostile.one_char_rows(folder),
            hostile.xfd_on_every_sheet(folder),
            hostile.huge_attribute_docx(folder),
            hostile.huge_attribute_xlsx(folder),
            hostile.many_elements_docx(folder),
            hostile.huge_amounts(folder),
            hostile.long_label_number(folder),
            hostile.EXAMPLE,
        ]
        todo = [f for _ in range(args.rounds) for f in files]
        lock = threading.Lock()
        answers: dict[str, list[tuple[int, str, float]]] = {}
        sizes = {f.name: f.stat().st_size for f in files}

        def client(port: int) -> None:
            while True:
                with lock:
                    if not todo:
                        return
                    path = todo.pop(0)
                result = upload(port, path, args.via)
                with lock:
                    answers.setdefault(path.name, []).append(result)

        load_start = os.getloadavg()
        os.chdir(folder)  # the server's review database (hegui-review.db) goes where it runs
        with (
            run_all.hegui_server(folder / "serve.log", args.workers) as (port, proc),
            run_all.TreeMemory(proc.pid, 0.05) as memory,
        ):
            threads = [threading.Thread(target=client, args=(port,)) for _ in range(args.clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        children = {pid: kib for pid, kib in memory.hwm.items() if pid != proc.pid}
        print(f"hegui serve --workers {args.workers}, {args.clients} clients, {args.rounds} rounds, via {args.via}")
        for name, results in sorted(answers.items()):
            shown = ", ".join(f"{status} {code}".strip() + f" ({seconds:.1f} s)" for status, code, seconds in results)
            print(f"  {name:<32} {sizes[name]:>10} B  {shown}")
        print(f"  peak RSS: server {memory.hwm.get(proc.pid, 0) / 1024:.0f} MB, ", end="")
        print(f"largest other process {max(children.values(), default=0) / 1024:.0f} MB ", end="")
        print(f"({len(children)} processes seen: workers, replacements, the resource tracker), ", end="")
        print(f"whole tree at once {memory.tree_peak_kib / 1024:.0f} MB")
        print(f"  load average {load_start} at start, {os.getloadavg()} at end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
