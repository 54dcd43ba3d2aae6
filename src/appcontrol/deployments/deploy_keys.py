"""SSH deploy keys the server makes for a private repository: the public half for the git host, the private
half kept encrypted (the repository's `private_key_encrypted`) and only ever written to a private file for
the length of one git run."""

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from appcontrol.applications.models import KeyType

RSA_BITS = 4096


def generate(key_type: str, comment: str) -> tuple[str, str]:
    """(private key in OpenSSH format, public key as one authorized_keys line ending in `comment`)."""
    if key_type == KeyType.ED25519:
        key = ed25519.Ed25519PrivateKey.generate()
    elif key_type == KeyType.ECDSA:
        key = ec.generate_private_key(ec.SECP256R1())
    elif key_type == KeyType.RSA:
        key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    else:
        raise ValueError(f"Unknown key type {key_type!r}")
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    ).decode("ascii")
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return private, f"{public.decode('ascii')} {comment}"
