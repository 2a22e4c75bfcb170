"""Sign-in: allauth (password, second factors, OIDC single sign-on), enforcement, throttling, sessions."""
