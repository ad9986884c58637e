"""Serve BigModel Lab to a class: N identical app processes behind nginx, one per core by default.

    make serve                                   # nginx on :8080, one app process per core
    python -m deploy.serve --procs 4 --listen 0.0.0.0:80
    python -m deploy.serve --procs 2 --no-nginx  # the processes only (another proxy in front)

Why several processes: one Streamlit process runs Python on one core at a time (the GIL), so on a
2-core machine one process tops out at one core while the other idles (bench/RESULTS.md). Every
process is identical and shares nothing but the read-only assets/, so they need no coordination;
nginx keeps each learner on one process (a cookie; see deploy/nginx.conf.template).

Health: nginx stops sending new requests to a process that fails (max_fails); this launcher polls
each process's /_stcore/health every few seconds and restarts one that died or stopped answering.
PyTorch threads are split so the processes do not oversubscribe the cores (BIGMODEL_THREADS).
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).with_name("nginx.conf.template")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(port: int, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=timeout) as r:
            return r.status == 200
    except OSError:
        return False


def app_command(port: int, extra: tuple[str, ...] = ()) -> list[str]:
    """One app process exactly as `make run` starts it, on a loopback port (nginx is the front door)."""
    return [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
            "--server.address", "127.0.0.1", "--server.headless", "true", *extra]


@dataclass
class Cluster:
    """N app processes and (optionally) nginx in front; a context manager. `url` is the front door."""
    procs: int = max(1, os.cpu_count() or 1)
    listen: str = "127.0.0.1:8080"             # nginx's address; 0.0.0.0:8080 for a classroom LAN
    nginx: bool = True
    run_dir: Path = ROOT / "build" / "deploy"
    ports: list[int] = field(default_factory=list)
    check_every: float = 5.0                   # seconds between health polls
    log: bool = False                          # print restarts
    _apps: dict[int, subprocess.Popen] = field(default_factory=dict)
    _nginx: subprocess.Popen | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    restarts: int = 0

    @property
    def url(self) -> str:
        if self.nginx:
            host, port = self.listen.rsplit(":", 1)
            return f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"
        return f"http://127.0.0.1:{self.ports[0]}"

    def pids(self) -> list[int]:
        """The app processes' pids (for CPU and memory readings)."""
        return [p.pid for p in self._apps.values()]

    # -- app processes --------------------------------------------------------------------------
    def _env(self) -> dict:
        cores = os.cpu_count() or 1
        threads = os.environ.get("BIGMODEL_THREADS") or str(max(1, cores // self.procs))
        return {**os.environ, "BIGMODEL_THREADS": threads}

    def _start_app(self, port: int) -> None:
        log = open(self.run_dir / f"app-{port}.log", "ab")
        self._apps[port] = subprocess.Popen(app_command(port), cwd=ROOT, env=self._env(), stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def _wait_healthy(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        waiting = set(self.ports)
        while waiting and time.monotonic() < deadline:
            for port in list(waiting):
                if self._apps[port].poll() is not None:
                    raise RuntimeError(f"app process on :{port} exited; see {self.run_dir}/app-{port}.log")
                if healthy(port):
                    waiting.discard(port)
            time.sleep(0.2)
        if waiting:
            raise TimeoutError(f"app processes on {sorted(waiting)} not healthy after {timeout} s")

    def _supervise(self) -> None:
        """Restart an app process that exited or failed three health polls in a row."""
        failures = {p: 0 for p in self.ports}
        while not self._stop.wait(self.check_every):
            for port, proc in list(self._apps.items()):
                dead = proc.poll() is not None
                failures[port] = 0 if (not dead and healthy(port, 5.0)) else failures[port] + 1
                if dead or failures[port] >= 3:
                    if not dead:
                        _terminate(proc)
                    if self._stop.is_set():
                        return
                    self.restarts += 1
                    if self.log:
                        print(f"restarting the app process on :{port}", flush=True)
                    self._start_app(port)
                    failures[port] = 0

    # -- nginx ---------------------------------------------------------------------------------
    def nginx_conf(self) -> str:
        upstreams = "\n".join(f"        server 127.0.0.1:{p} max_fails=2 fail_timeout=10s;" for p in self.ports)
        return (TEMPLATE.read_text().replace("@RUN_DIR@", str(self.run_dir))
                .replace("@LISTEN@", self.listen).replace("@UPSTREAMS@", upstreams))

    def _start_nginx(self) -> None:
        exe = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(exe).exists():
            raise FileNotFoundError("nginx not found: install Debian's package (apt-get install nginx), "
                                    "or run with --no-nginx behind your own proxy")
        conf = self.run_dir / "nginx.conf"
        conf.write_text(self.nginx_conf())
        base = [exe, "-p", str(self.run_dir), "-e", str(self.run_dir / "nginx-error.log"), "-c", str(conf)]
        check = subprocess.run(base + ["-t"], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t failed:\n{check.stderr}")
        self._nginx = subprocess.Popen(base + ["-g", "daemon off;"], stdout=subprocess.DEVNULL,
                                       stderr=open(self.run_dir / "nginx-stderr.log", "ab"),
                                       start_new_session=True)
        host, port = self.url[len("http://"):].rsplit(":", 1)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self._nginx.poll() is not None:
                raise RuntimeError(f"nginx exited: {(self.run_dir / 'nginx-error.log').read_text()[-1500:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise TimeoutError("nginx did not answer")

    # -- the whole ----------------------------------------------------------------------------
    def start(self) -> "Cluster":
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if not self.ports:
            self.ports = [free_port() for _ in range(self.procs)]
        for port in self.ports:
            self._start_app(port)
        self._wait_healthy()
        if self.nginx:
            self._start_nginx()
        threading.Thread(target=self._supervise, name="bigmodel-supervisor", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._nginx is not None:
            _terminate(self._nginx)
        for proc in self._apps.values():
            _terminate(proc)

    def __enter__(self) -> "Cluster":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()


def _terminate(proc: subprocess.Popen, timeout: float = 30.0) -> None:
    """Stop one process we started (by its own handle, never by name)."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@contextmanager
def single_app() -> Iterator[str]:
    """One app process on a free loopback port, no nginx (for bench/hostile.py run alone)."""
    with Cluster(procs=1, nginx=False) as c:
        yield c.url


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description="N BigModel Lab processes behind nginx (sticky sessions).")
    ap.add_argument("--procs", type=int, default=max(1, os.cpu_count() or 1), help="app processes (default: cores)")
    ap.add_argument("--listen", default="0.0.0.0:8080", help="nginx's address (default 0.0.0.0:8080)")
    ap.add_argument("--base-port", type=int, default=8601, help="first app port; the rest follow (loopback)")
    ap.add_argument("--no-nginx", action="store_true", help="only the app processes")
    args = ap.parse_args(argv)
    cluster = Cluster(procs=args.procs, listen=args.listen, nginx=not args.no_nginx, log=True,
                      ports=[args.base_port + i for i in range(args.procs)])
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with cluster:
        where = cluster.url if cluster.nginx else ", ".join(f"http://127.0.0.1:{p}" for p in cluster.ports)
        print(f"BigModel Lab: {args.procs} process(es) on {cluster.ports}; open {where}", flush=True)
        stop.wait()
    print("stopped", flush=True)


if __name__ == "__main__":
    main()
