"""Security: response headers, request limits, sign-in throttling and lock-out, session
lifetime, key rotation and the admin's access-history / subject-access endpoints."""
