"""SCIM 2.0 provisioning (RFC 7643/7644): identity providers create, change and delete Switchyard's users and
groups. scim2-server speaks the protocol (validation, PATCH, filters, ETags, error bodies); the modules here
decide who may call it and how its resources map onto the ``user`` and ``group`` tables."""
