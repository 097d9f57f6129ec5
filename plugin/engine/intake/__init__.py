"""Untrusted input in: file paths below the allowed roots, URLs to public addresses, data URIs and
base64, decoded into clean RGB images within the configured bounds."""
