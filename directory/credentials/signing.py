"""The directory's Ed25519 signing keys, and compact JWS (alg EdDSA) made with the current one.

Keys live in `DATA_DIR/signing/` (mode 0700), never under static/:

    <kid>.jwk   one private key per file, as JWK JSON, mode 0600; kid = RFC 7638 thumbprint
    current     the kid that signs now

Every file is written whole under a private dot-name (opened with O_EXCL), then linked into place;
a link never replaces an existing file, so no reader meets a half-written key. Two workers starting
on an empty folder both make a key, but only one links `current`: the loser deletes its own key and
uses the winner's. `rotate()` adds a key and points `current` at it (an atomic rename); old keys stay,
so the JWKS still checks every record they signed. Keys are cached per app and reloaded when
`current` names another kid or the folder changes (another process rotated).

The JWS header is {alg: "EdDSA", kid, typ: "JWT"}: the payload is a JWT claims set (iss, sub, iat),
so any JWT library checks it with the JWKS.
"""

import json
import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, current_app
from joserfc import jws
from joserfc.jwa import EdDSAAlgorithm
from joserfc.jwk import OKPKey

ALG = "EdDSA"
TYP = "JWT"
CURVE = "Ed25519"
KEY_SUFFIX = ".jwk"
CURRENT = "current"
EXTENSION = "directory.signing"


class _EdDSA(EdDSAAlgorithm):
    # joserfc warns on every use of "EdDSA" (RFC 9864 prefers the fully specified "Ed25519"); API.md
    # promises EdDSA, which every JOSE library reads, so this signer says it without the warning.
    security_warning = None


class _Registry(jws.JWSRegistry):
    algorithms = {ALG: _EdDSA()}
    recommended: list[str] = []


@dataclass
class _Keys:
    stamp: tuple
    current_kid: str
    keys: dict[str, OKPKey]  # kid → private key; current first, then newest first


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
    """Every key's public half, the current one first: {"keys": [{kty, crv, x, kid, alg, use}]}."""
    loaded = _load()
    return {
        "keys": [key.as_dict(private=False, kid=kid, alg=ALG, use="sig") for kid, key in loaded.keys.items()]
    }


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
    app = current_app._get_current_object()
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
    order = sorted(found, key=lambda k: (k != current_kid, -found[k][0], k))
    return _Keys(stamp=stamp, current_kid=current_kid, keys={kid: found[kid][1] for kid in order})


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
