"""The contributor portal and the brand's guidelines library (docs/contributor-portal.md)."""
