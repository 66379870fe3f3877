"""A Keystone v3 subset at /identity/v3: password tokens for the portal's users and projects."""
