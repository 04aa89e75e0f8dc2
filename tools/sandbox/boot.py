"""Runs INSIDE the sandbox, before the user's code, as the first process of fresh namespaces.

Standalone on purpose (started with `python -I`, imports only the standard library):
read the code from stdin, hide the host's temp dirs behind private tmpfs mounts, make
every other mount read-only, set rlimits, drop to an unprivileged uid when started as
real root, then run the code as `__main__`. argv[1] is a JSON object of settings.
"""

import ctypes
import json
import os
import resource
import signal
import sys
import traceback

AT_FDCWD = -100
AT_RECURSIVE = 0x8000
MOUNT_ATTR_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_BIND = 0x1000
MS_REC = 0x4000
SYS_MOUNT_SETATTR = 442  # the same number on every architecture (new-style syscall table)


class MountAttr(ctypes.Structure):
    _fields_ = [
        ("attr_set", ctypes.c_uint64),
        ("attr_clr", ctypes.c_uint64),
        ("propagation", ctypes.c_uint64),
        ("userns_fd", ctypes.c_uint64),
    ]


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def readonly_everything(libc: ctypes.CDLL, top: str = "/") -> None:
    """Mark `top` and every mount below it read-only (Linux >= 5.12)."""
    attr = MountAttr(MOUNT_ATTR_RDONLY, 0, 0, 0)
    rc = libc.syscall(
        SYS_MOUNT_SETATTR, AT_FDCWD, top.encode(), AT_RECURSIVE, ctypes.byref(attr),
        ctypes.sizeof(attr),
    )  # fmt: skip
    if rc != 0:
        raise OSError(ctypes.get_errno(), f"mount_setattr({top}, RDONLY, recursive) failed")


def mount_tmpfs(libc: ctypes.CDLL, target: str, size_mb: int, mode: str = "1777") -> None:
    if not os.path.isdir(target):
        return
    opts = f"size={size_mb}m,mode={mode}".encode()
    if libc.mount(b"tmpfs", target.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, opts) != 0:
        raise OSError(ctypes.get_errno(), f"mounting a private tmpfs on {target} failed")


def _closed_ancestor(path: str) -> str | None:
    """The top-most directory on `path` that other users cannot enter."""
    parts = path.strip("/").split("/")
    for i in range(1, len(parts) + 1):
        current = "/" + "/".join(parts[:i])
        if not os.stat(current).st_mode & 0o001:
            return current
    return None


def expose(libc: ctypes.CDLL, held: list[tuple[str, int]]) -> None:
    """Keep the held paths (the Python install) readable after the uid drop.

    A closed ancestor (e.g. `/root`, mode 700) is covered by an empty tmpfs, which
    also hides its other contents, and each path is bind-mounted back inside it.
    """
    for path, fd in held:
        top = _closed_ancestor(path)
        if top is not None:
            mount_tmpfs(libc, top, 1, mode="0755")
            _bind(libc, fd, path)


def rebind_under(libc: ctypes.CDLL, held: list[tuple[str, int]], covered: tuple[str, ...]) -> None:
    """Bind back held paths that a private tmpfs just covered (e.g. a virtualenv under /tmp)."""
    for path, fd in held:
        if any(path == c or path.startswith(c + "/") for c in covered):
            _bind(libc, fd, path)
            readonly_everything(libc, path)


def _bind(libc: ctypes.CDLL, fd: int, path: str) -> None:
    os.makedirs(path, exist_ok=True)
    src = f"/proc/self/fd/{fd}".encode()
    if libc.mount(src, path.encode(), None, MS_BIND | MS_REC, None) != 0:
        raise OSError(ctypes.get_errno(), f"bind-mounting {path} failed")


def set_limits(cfg: dict) -> None:
    def cap(kind: int, value: int) -> None:
        resource.setrlimit(kind, (value, value))

    resource.setrlimit(resource.RLIMIT_CPU, (cfg["cpu_s"], cfg["cpu_s"] + 1))
    cap(resource.RLIMIT_AS, cfg["memory_mb"] << 20)
    cap(resource.RLIMIT_FSIZE, cfg["file_mb"] << 20)
    cap(resource.RLIMIT_NPROC, cfg["nproc"])
    cap(resource.RLIMIT_NOFILE, cfg["nofile"])
    cap(resource.RLIMIT_CORE, 0)


def prepare(cfg: dict) -> str:
    """Mounts, working dir, limits, uid; returns the working dir."""
    work = cfg["workdir"]
    if cfg["isolated"]:
        libc = _libc()
        held = [(p, os.open(p, os.O_PATH)) for p in cfg["expose"]]  # grab before covering
        expose(libc, held)
        readonly_everything(libc)
        private = ("/tmp", "/var/tmp", "/dev/shm")
        for target in private:
            mount_tmpfs(libc, target, cfg["disk_mb"])
        rebind_under(libc, held, private)
        for _, fd in held:
            os.close(fd)
        os.makedirs(work, mode=0o700, exist_ok=True)
    uid = cfg.get("uid")
    if uid is not None:
        os.chown(work, uid, uid)
    os.chdir(work)
    set_limits(cfg)
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    return work


def _cpu_exceeded(signum: int, frame: object) -> None:
    os.write(2, b"\n[sandbox] CPU-time limit exceeded\n")
    os._exit(124)


def main() -> None:
    cfg = json.loads(sys.argv[1])
    code = sys.stdin.buffer.read()
    work = prepare(cfg)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    signal.signal(signal.SIGXCPU, _cpu_exceeded)
    sys.argv = ["main.py"]
    sys.path.insert(0, work)
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    del cfg
    try:
        exec(compile(code, "main.py", "exec"), namespace)
    except SystemExit:
        raise
    except BaseException as exc:  # show the user's frames only, not this launcher's
        traceback.print_exception(
            type(exc), exc, exc.__traceback__.tb_next if exc.__traceback__ else None
        )
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)


if __name__ == "__main__":
    main()
