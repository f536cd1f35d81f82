"""DRF authentication by advertiser or staff API key (Authorization: Bearer <key>)."""

from rest_framework import authentication, exceptions

from offers.auth import authenticate_api_key


class ApiKeyUser:
    """The caller behind an API key: staff, or one advertiser."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, api_key):
        self.api_key = api_key
        self.is_staff = api_key.is_staff
        self.advertiser = api_key.advertiser

    def __str__(self) -> str:
        return str(self.api_key)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = request.headers.get("Authorization", "")
        if not header.lower().startswith("bearer "):
            return None
        api_key = authenticate_api_key(header[7:].strip())
        if api_key is None:
            raise exceptions.AuthenticationFailed("The API key is not valid.")
        return ApiKeyUser(api_key), api_key

    def authenticate_header(self, request) -> str:
        return self.keyword
