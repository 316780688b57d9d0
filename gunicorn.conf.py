"""gunicorn settings for a production node: `gunicorn wsgi:app` from this folder reads them.

Everything a deployment changes comes from the environment; command-line flags still win.

    DIRECTORY_BIND                 address to listen on            127.0.0.1:8000 (loopback: put a proxy in front)
    DIRECTORY_WORKERS              worker processes                2
    DIRECTORY_THREADS              request threads per worker      4 (gthread workers: see below)
    DIRECTORY_TIMEOUT              seconds a worker may hang       30
    DIRECTORY_GRACEFUL_TIMEOUT     seconds to finish on SIGTERM    30
    DIRECTORY_FORWARDED_ALLOW_IPS  proxies gunicorn trusts for X-Forwarded-Proto; unset: gunicorn's own
                                   default (loopback). The app's DIRECTORY_PROXY_HOPS decides the rest.
    DIRECTORY_ACCESS_LOG           access log file, `-` for stdout, empty for none     -
    DIRECTORY_CONTROL_SOCKET       path of gunicorn's control socket (gunicornc)      unset: none
    DIRECTORY_ENV                  set to `production` here unless already set; the app then requires
                                   DIRECTORY_SITE_URL

Workers are gthread: each answers up to DIRECTORY_THREADS requests at once. A kept-alive connection waits
between requests in the worker's poller, without a thread; a new one that sends nothing is handed back to
the poller after 5 s. A client that trickles its request in holds a thread until the request is complete,
so a worker keeps answering while fewer than DIRECTORY_THREADS such clients reach it at once: the proxy
in front must read whole requests before passing them on (README, Running in production). Each thread
takes a database connection from its worker's pool (SQLAlchemy's default: 5, and 10 more on demand).

The access log never prints a query string (search words, and any secret a client puts in a URL)
nor the Referer, and prints the password-reset and confirmation links' paths as `/password-reset/<token>`
and `/confirm-email/<token>`.
"""

import ctypes
import ctypes.util
import os
import re

from gunicorn import glogging

# A node that gunicorn serves is production (unless told otherwise): the app then refuses to start without
# DIRECTORY_SITE_URL, the public address its signed records and checkpoints name (never a request's Host).
# gunicorn's raw_env puts it in the workers' environment; nothing else's environment changes.
if "DIRECTORY_ENV" not in os.environ:
    raw_env = ["DIRECTORY_ENV=production"]

bind = os.environ.get("DIRECTORY_BIND", "127.0.0.1:8000").split(",")
workers = int(os.environ.get("DIRECTORY_WORKERS", "2"))
# A sync worker answers one request at a time: one client sending its headers slowly stalls it until the
# timeout kills it. A gthread worker keeps answering on its other threads.
worker_class = "gthread"
threads = int(os.environ.get("DIRECTORY_THREADS", "4"))
# Each worker opens its own database pool and index: loading the app before the fork would share them.
preload_app = False
# The worker's main loop reports to the arbiter while threads run requests: this bounds a hung worker,
# not a slow request (the proxy's timeouts bound those).
timeout = int(os.environ.get("DIRECTORY_TIMEOUT", "30"))
# SIGTERM: stop accepting, let requests in flight finish for this long, then stop the workers.
graceful_timeout = int(os.environ.get("DIRECTORY_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
if os.environ.get("DIRECTORY_FORWARDED_ALLOW_IPS"):
    forwarded_allow_ips = os.environ["DIRECTORY_FORWARDED_ALLOW_IPS"]

# gunicorn's runtime control socket (gunicornc) defaults to one path per user, which two instances on a
# machine would fight over; it is off unless a path is given.
if os.environ.get("DIRECTORY_CONTROL_SOCKET"):
    control_socket = os.environ["DIRECTORY_CONTROL_SOCKET"]
else:
    control_socket_disable = True

accesslog = os.environ.get("DIRECTORY_ACCESS_LOG", "-") or None
# %(U)s is the path alone (no query string), already redacted by AccessLogger below; the request
# id is the one the app's JSON log lines carry, so the two logs join.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms rid=%({x-request-id}o)s'

# The app records the loggable path of each request it routed (directory/ops.py); this is the
# fallback for a request that never reached a route.
SECRET_PATHS = re.compile(r"^(/password-reset/(?!new/?$)|/confirm-email/)[^/]+")
LOG_PATH_KEY = "directory.log_path"
HIDDEN_HEADERS = ("authorization", "cookie", "x-api-key", "referer")


class AccessLogger(glogging.Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        path = environ.get(LOG_PATH_KEY) or SECRET_PATHS.sub(r"\1<token>", environ.get("PATH_INFO") or "")
        atoms.update(U=path, q="-", f="-", r=f"{atoms['m']} {path} {atoms['H']}")
        for key in list(atoms):
            lower = key.lower()
            # Request headers ({…}i) that carry secrets, and the whole WSGI environ ({…}e), which
            # holds the raw URI and query string: none of them may be printed by a format change.
            if lower.endswith("}e") or (lower.endswith("}i") and lower[1:-2] in HIDDEN_HEADERS):
                atoms[key] = "-"
        return atoms


logger_class = AccessLogger


# glibc's malloc, told to give memory back. A search allocates and frees arrays of hundreds of kB; by
# default glibc raises its map threshold after each such free, so later ones come from the heap and
# stay there, and each request thread gets an arena of its own that keeps what it freed. Mapping
# anything over 256 kB, trimming past 1 MB and two arenas keep a worker near its working set.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8


def post_fork(server, worker):
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc: its own defaults
        return
    mallopt(M_MMAP_THRESHOLD, 256 * 1024)
    mallopt(M_TRIM_THRESHOLD, 1024 * 1024)
    mallopt(M_ARENA_MAX, 2)
