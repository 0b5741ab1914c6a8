"""The agency's rule for the secret that unlocks a phone (PIN length, or a passphrase)."""
