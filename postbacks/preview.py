"""The config form's live preview: what an unsaved config would send with sample values,
and what is wrong with it, in words. Nothing is sent and no host name is resolved."""

import difflib

from django.core.exceptions import ValidationError

from postbacks.addresses import validate_postback_url
from postbacks.attempts import Unsendable, build_request
from postbacks.context import sample_context
from postbacks.macros import MACRO_PATTERN, MACROS, find_unknown_macros, macro_types
from postbacks.models import Method, PostbackConfig, PostbackType, new_webhook_id


def preview(config: PostbackConfig) -> dict:
    """What the config would send with sample values, and what is wrong with it, in words.

    Nothing is sent or resolved: literal addresses are judged, host names are not.
    """
    url_problems = _url_problems(config.url)
    problems = _macro_problems(config) + url_problems
    if config.method == Method.GET and config.body.strip():
        problems.append("GET sends no body: the body template is used only with POST.")
    try:
        request = build_request(config, sample_context(config), new_webhook_id())
    except Unsendable as refusal:
        return {
            "url": "",
            "method": config.method,
            "content_type": "",
            "body": "",
            "problems": problems + ([] if url_problems else [str(refusal)]),
        }
    return {
        "url": request.url,
        "method": request.method,
        "content_type": request.content_type,
        "body": request.body,
        "problems": problems,
    }


def _url_problems(url: str) -> list[str]:
    problems = []
    if "\n" in url or "\r" in url:
        problems.append("The URL template has a line break: remove it.")
    try:
        validate_postback_url(url)
    except ValidationError as error:
        problems.extend(error.messages)
    return problems


def _macro_problems(config: PostbackConfig) -> list[str]:
    """Unknown macros (saving refuses them) and macros always empty for this type."""
    problems = []
    for where, template in (("URL template", config.url), ("body template", config.body)):
        for name in find_unknown_macros(template):
            close = difflib.get_close_matches(name, MACROS, n=1)
            hint = f" (did you mean {{{close[0]}}}?)" if close else ""
            problems.append(f"Unknown macro {{{name}}} in the {where}{hint}: saving refuses it.")
    used = MACRO_PATTERN.findall(config.url + " " + config.body)
    empty = sorted({n for n in used if n in MACROS and config.postback_type not in macro_types(n)})
    if empty:
        names = ", ".join("{" + name + "}" for name in empty)
        label = PostbackType(config.postback_type).label
        problems.append(f"{names}: always empty in {label} postbacks.")
    return problems
