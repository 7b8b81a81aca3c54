"""The program checks: evaluate the program under mocks, fingerprint, parity, preview, validate."""
