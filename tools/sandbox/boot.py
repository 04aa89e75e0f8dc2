"""Runs INSIDE the sandbox, before the user's code, as the first process of fresh namespaces.

Standalone on purpose (started with `python -I`, imports only the standard library):
read the code from stdin, build a new root that holds only what running Python needs
(read-only binds of the system's programs and libraries and of the interpreter's install,
a few device nodes, a fresh /proc, a private tmpfs /tmp) and pivot into it, so the host's
home, caches, run store and configs are not there at all; set rlimits, drop to an
unprivileged uid when started as real root (or drop every capability inside a user
namespace), then run the code as `__main__`. argv[1] is a JSON object of settings.
"""

import ctypes
import json
import os
import platform
import resource
import signal
import sys
import traceback

AT_FDCWD = -100
AT_RECURSIVE = 0x8000
MOUNT_ATTR_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_BIND = 0x1000
MS_REC = 0x4000
MNT_DETACH = 0x2
SYS_MOUNT_SETATTR = 442  # the same number on every architecture (new-style syscall table)
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "ppc64le": 203, "s390x": 217}
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
# What a run sees of the host, read-only: programs and shared libraries, the loader's cache.
SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc/ld.so.cache",
          "/etc/localtime", "/etc/alternatives")  # fmt: skip
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")


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


def new_root(libc: ctypes.CDLL, cfg: dict) -> None:
    """Pivot into a fresh tmpfs root holding read-only binds of only what Python needs."""
    held = [(p, os.open(p, os.O_PATH)) for p in _wanted(cfg)]  # grabbed before covering /tmp
    root = "/tmp"  # the private tmpfs becomes the new root; the host's /tmp is not in it
    mount_tmpfs(libc, root, cfg["disk_mb"] + 8, mode="0755")
    for path, fd in held:
        _bind(libc, fd, root + path, is_dir=os.path.isdir(f"/proc/self/fd/{fd}"))
        os.close(fd)
    for sub in ("tmp", "var/tmp", "dev/shm"):
        os.makedirs(f"{root}/{sub}", exist_ok=True)
        os.chmod(f"{root}/{sub}", 0o1777)
    os.makedirs(f"{root}/proc", exist_ok=True)
    if libc.mount(b"proc", f"{root}/proc".encode(), b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  None) != 0:  # fmt: skip
        raise OSError(ctypes.get_errno(), "mounting /proc in the new root failed")
    os.chdir(root)
    number = SYS_PIVOT_ROOT.get(platform.machine())
    if number is None or libc.syscall(number, b".", b".") != 0:
        raise OSError(ctypes.get_errno(), f"pivot_root failed on {platform.machine()}")
    if libc.umount2(b".", MNT_DETACH) != 0:  # the old root, stacked under ours: gone
        raise OSError(ctypes.get_errno(), "detaching the old root failed")
    os.chdir("/")
    for path, _ in held:
        if path not in DEVICES:
            readonly_everything(libc, path)


def _wanted(cfg: dict) -> list[str]:
    """Existing system paths, device nodes and the interpreter's install (no duplicates)."""
    paths = [p for p in (*SYSTEM, *DEVICES) if os.path.lexists(p)]
    found: list[str] = []
    for path in [*paths, *cfg["expose"]]:
        if os.path.islink(path):  # e.g. /lib -> usr/lib: recreate the link, bind nothing
            continue
        if not any(path == f or path.startswith(f + "/") for f in found):
            found.append(path)
    return found


def _links() -> list[tuple[str, str]]:
    """Top-level symlinks of the system paths (merged /usr: /lib -> usr/lib)."""
    return [(p, os.readlink(p)) for p in SYSTEM if os.path.islink(p)]


def _bind(libc: ctypes.CDLL, fd: int, path: str, *, is_dir: bool = True) -> None:
    if is_dir:
        os.makedirs(path, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "ab").close()  # a file to bind the node or file over
    src = f"/proc/self/fd/{fd}".encode()
    if libc.mount(src, path.encode(), None, MS_BIND | MS_REC, None) != 0:
        raise OSError(ctypes.get_errno(), f"bind-mounting {path} failed")


def drop_capabilities(libc: ctypes.CDLL) -> None:
    """Root inside a user namespace keeps no capability (no remount, no new namespaces)."""
    for cap in range(64):
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)  # EINVAL past the last cap: ignored
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this thread
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable x 2: all zero
    if libc.capset(header, data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS failed")


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
    libc = _libc() if cfg["isolated"] else None
    if libc is not None:
        links = _links()
        new_root(libc, cfg)
        for path, target in links:
            if not os.path.lexists(path):
                os.symlink(target, path)
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
    elif libc is not None:
        drop_capabilities(libc)
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
