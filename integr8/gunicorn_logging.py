"""gunicorn's access log without credentials (SPEC §14): an API key sent as `key=` or
`api_key=` in the query string, and the Authorization header, never reach the log file.

`bin/run-all` starts gunicorn with `--logger-class integr8.gunicorn_logging.RedactingLogger`;
a deployment that runs gunicorn itself should pass the same option.
"""

import re

from gunicorn.glogging import Logger

MASK = "****"
# key=… and api_key=… (the two names /conversion/ and the custom postback API read, any
# case), the value up to the next &, space, # or the end.
KEY_IN_QUERY = re.compile(r"(?i)(^|[?&])((?:api_)?key)=[^&\s#]*")
CREDENTIAL_HEADERS = ("{authorization}i", "{x-api-key}i", "{cookie}i")


def redacted(text: str) -> str:
    return KEY_IN_QUERY.sub(lambda match: f"{match.group(1)}{match.group(2)}={MASK}", text)


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for name in ("r", "q", "f"):
            if isinstance(atoms.get(name), str):
                atoms[name] = redacted(atoms[name])
        for name in CREDENTIAL_HEADERS:
            if name in atoms:
                atoms[name] = MASK
        return atoms
