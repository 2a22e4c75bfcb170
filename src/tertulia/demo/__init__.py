"""The demo organization that `tertulia demo` loads."""
