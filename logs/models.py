"""The logs app reads the postback log (postbacks.models.PostbackLog); it owns no models."""
