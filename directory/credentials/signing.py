"""The directory's Ed25519 signing keys, and compact JWS (alg EdDSA) made with the current one.

Keys live in `DATA_DIR/signing/` (mode 0700), never under static/:

    <kid>.jwk      one private key per file, as JWK JSON, mode 0600; kid = RFC 7638 thumbprint
    <kid>.retired  the key signs no more (its content: when it was retired); it stays in the JWKS,
                   marked retired and verify-only, so kept records and checkpoints remain checkable
    current        the kid that signs now (never a retired one)

Every file is written whole under a private dot-name (opened with O_EXCL), then linked into place;
a link never replaces an existing file, so no reader meets a half-written key. Two workers starting
on an empty folder both make a key, but only one links `current`: the loser deletes its own key and
uses the winner's. `rotate()` adds a key and points `current` at it (an atomic rename); old keys stay,
so the JWKS still checks every record they signed. Keys are cached per app and reloaded when
`current` names another kid or the folder changes (another process rotated).

The JWS header is {alg: "EdDSA", kid, typ: "JWT"}: the payload is a JWT claims set (iss, sub, iat, exp,
jti), so any JWT library checks it with the JWKS.
"""

import contextlib
import json
import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from flask import Flask, current_app
from joserfc import jws
from joserfc.jwa import EdDSAAlgorithm
from joserfc.jwk import OKPKey

from directory.extensions import app_object

ALG = "EdDSA"
TYP = "JWT"
CURVE: Literal["Ed25519"] = "Ed25519"
KEY_SUFFIX = ".jwk"
RETIRED_SUFFIX = ".retired"
CURRENT = "current"
EXTENSION = "directory.signing"


class _EdDSA(EdDSAAlgorithm):
    # joserfc warns on every use of "EdDSA" (RFC 9864 prefers the fully specified "Ed25519"); the records
    # promise EdDSA, which every JOSE library reads, so this signer says it without the warning.
    security_warning = None  # type: ignore[assignment]  # joserfc types it str; None is how it is turned off


class _Registry(jws.JWSRegistry):
    algorithms = {ALG: _EdDSA()}
    recommended: list[str] = []


@dataclass
class _Keys:
    stamp: tuple
    current_kid: str
    keys: dict[str, OKPKey]  # kid → private key; current first, then newest first
    retired: dict[str, str] = field(default_factory=dict)  # kid → when it was retired (ISO 8601)


@dataclass
class _Cache:
    lock: threading.Lock = field(default_factory=threading.Lock)
    loaded: _Keys | None = None


def key_dir(app: Flask | None = None) -> Path:
    app = app or current_app
    return Path(app.config["DATA_DIR"]) / "signing"


def current_key() -> tuple[str, OKPKey]:
    """(kid, private key) of the key that signs now; made on first use."""
    loaded = _load()
    return loaded.current_kid, loaded.keys[loaded.current_kid]


def public_jwks() -> dict:
    """Every key's public half, the current one first: {"keys": [{kty, crv, x, kid, alg, use, key_ops}]};
    a retired key also carries `retired_at` (a JWK member that verifiers without use for it ignore)."""
    loaded = _load()
    keys = []
    for kid, key in loaded.keys.items():
        public = key.as_dict(private=False, kid=kid, alg=ALG, use="sig")
        public["key_ops"] = ["verify"]
        if kid in loaded.retired:
            public["retired_at"] = loaded.retired[kid]
        keys.append(public)
    return {"keys": keys}


def retire(kid: str, when: str) -> None:
    """Stop `kid` signing for good; it stays published, verify-only. The current key is retired by
    rotating first (RuntimeError otherwise), so something always signs."""
    loaded = _load()
    if kid not in loaded.keys:
        raise KeyError(kid)
    if kid == loaded.current_kid:
        raise RuntimeError(f"{kid} signs now: rotate to a new key first, then retire this one.")
    with contextlib.suppress(FileExistsError):  # retired already: the first date stands
        _write_new(key_dir() / f"{kid}{RETIRED_SUFFIX}", when + "\n", 0o644)


def verify(token: str) -> dict:
    """The payload of a compact JWS signed by any of this site's keys, retired ones included;
    ValueError if it is malformed, names an unknown key or its signature does not hold."""
    from joserfc.errors import JoseError

    loaded = _load()
    try:
        header = jws.extract_compact(token.encode()).protected
        key = loaded.keys[header["kid"]]
        result = jws.deserialize_compact(token, key, registry=_Registry(algorithms=[ALG]))
    except (JoseError, KeyError, ValueError, TypeError) as exc:
        raise ValueError(f"not a record signed by this site: {exc.__class__.__name__}") from exc
    return json.loads(result.payload)


def rotate() -> str:
    """Make a new key and sign with it from now on; the old keys stay published. Returns its kid."""
    folder = _ensure_dir()
    kid, key = _new_key(folder)
    _write_new(folder / CURRENT, kid + "\n", 0o644, replace=True)
    return kid


def sign(payload: dict) -> str:
    """A compact JWS of the payload (JSON) with the current key."""
    kid, key = current_key()
    header = {"alg": ALG, "kid": kid, "typ": TYP}
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return jws.serialize_compact(header, body, key, registry=_Registry(algorithms=[ALG]))


def _load() -> _Keys:
    app = app_object()
    cache: _Cache = app.extensions.setdefault(EXTENSION, _Cache())
    folder = key_dir(app)
    kid = _read_current(folder)
    if kid is None:
        kid = _create_first(folder)
    # The folder is stamped before it is listed: a change during the listing forces a later reload.
    stamp = (kid, folder.stat().st_mtime_ns)
    loaded = cache.loaded
    if loaded is not None and loaded.stamp == stamp:
        return loaded
    with cache.lock:
        if cache.loaded is None or cache.loaded.stamp != stamp:
            cache.loaded = _read_keys(folder, kid, stamp)
        return cache.loaded


def _read_keys(folder: Path, current_kid: str, stamp: tuple) -> _Keys:
    found: dict[str, tuple[int, OKPKey]] = {}
    for path in folder.glob(f"*{KEY_SUFFIX}"):
        try:
            text, modified = path.read_text(), path.stat().st_mtime_ns
        except FileNotFoundError:
            continue  # a racing worker's key that lost to `current`, deleted as we listed
        key = OKPKey.import_key(json.loads(text))
        kid = path.name.removesuffix(KEY_SUFFIX)
        if key.curve_name != CURVE or not key.is_private or key.thumbprint() != kid:
            raise RuntimeError(f"{path} is not the Ed25519 private key its name says; remove or restore it.")
        found[kid] = (modified, key)
    if current_kid not in found:
        raise RuntimeError(
            f"{folder / CURRENT} names key {current_kid}, but {current_kid}{KEY_SUFFIX} is missing."
        )
    if (folder / f"{current_kid}{RETIRED_SUFFIX}").exists():
        raise RuntimeError(f"{folder / CURRENT} names {current_kid}, which is retired: rotate to a new key.")
    retired = {}
    for path in folder.glob(f"*{RETIRED_SUFFIX}"):
        kid = path.name.removesuffix(RETIRED_SUFFIX)
        if kid in found:
            retired[kid] = path.read_text().strip()
    order = sorted(found, key=lambda k: (k != current_kid, -found[k][0], k))
    return _Keys(
        stamp=stamp, current_kid=current_kid, keys={kid: found[kid][1] for kid in order}, retired=retired
    )


def _read_current(folder: Path) -> str | None:
    try:
        return (folder / CURRENT).read_text().strip() or None
    except FileNotFoundError:
        return None


def _create_first(folder: Path) -> str:
    """The first key. Racing workers each make one; the one that links `current` wins."""
    _ensure_dir(folder)
    kid, _ = _new_key(folder)
    try:
        _write_new(folder / CURRENT, kid + "\n", 0o644)
    except FileExistsError:
        (folder / f"{kid}{KEY_SUFFIX}").unlink(missing_ok=True)
        winner = _read_current(folder)
        if winner is None:
            raise RuntimeError(f"{folder / CURRENT} is empty.") from None
        return winner
    return kid


def _new_key(folder: Path) -> tuple[str, OKPKey]:
    key = OKPKey.generate_key(CURVE, private=True)
    kid = key.thumbprint()
    data = json.dumps(key.as_dict(private=True, kid=kid), indent=2) + "\n"
    _write_new(folder / f"{kid}{KEY_SUFFIX}", data, 0o600)
    return kid, key


def _ensure_dir(folder: Path | None = None) -> Path:
    folder = folder or key_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _write_new(path: Path, text: str, mode: int, replace: bool = False) -> None:
    """Write the whole file under a private name (O_EXCL), then put it in place: linked, so an existing
    file is never overwritten (FileExistsError), or renamed over it when `replace`."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
