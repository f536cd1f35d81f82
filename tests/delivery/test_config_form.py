"""The postback config form: full-width templates, the macro list and the live preview.

The preview renders with the real macro engine and sends nothing: no test here needs a
receiver, and the blocked targets are never connected to.
"""

import json

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from postbacks.macros import MACROS, macro_meaning, macros_for
from postbacks.models import PostbackConfig, PostbackLog, new_secret

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/postbacks/postbackconfig/add/"
PREVIEW_URL = "/admin/postbacks/postbackconfig/preview/"


def preview_form(**fields) -> dict:
    """What the form's script posts: the unsaved fields that shape the request."""
    return {
        "url": "https://pub.example/pb?tid={transaction_id}",
        "method": "GET",
        "content_type": "form",
        "body": "",
        "postback_type": "conversion",
        "publisher": "",
        "offer": "",
        "event": "",
        **fields,
    }


def preview(client, **fields):
    return client.post(PREVIEW_URL, preview_form(**fields))


def test_it_lists_every_macro_with_a_meaning():
    assert {name for name, _ in macros_for()} == MACROS
    assert all(macro_meaning(name) for name in MACROS)


def test_it_lists_per_type_macros():
    click = {name for name, _ in macros_for("click")}
    rejection = {name for name, _ in macros_for("rejection")}
    assert "transaction_id" in click and "sub1" in click and "timestamp" in click
    assert "conversion_id" not in click and "rejection_reason" not in click
    assert "rejection_reason" in rejection and "conversion_id" in rejection


def test_add_page_shows_the_macro_list_and_the_preview(admin_client):
    page = admin_client.get(ADD_URL)

    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="config-preview"' in html and f'data-preview-url="{PREVIEW_URL}"' in html
    assert 'data-macro="{transaction_id}"' in html and 'data-macro="{rejection_reason}"' in html
    assert macro_meaning("device_id") in html
    assert "css/config-form.css" in html and "js/config-form.js" in html
    assert 'class="template-field"' in html and 'data-template="url"' in html


def test_change_page_shows_the_macro_list_and_send_test(admin_client, make_config):
    config = make_config("https://pub.example/pb?tid={transaction_id}")

    page = admin_client.get(f"/admin/postbacks/postbackconfig/{config.pk}/change/")

    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-macro="{sub1}"' in html and 'id="preview-problems"' in html
    assert f"/admin/postbacks/postbackconfig/{config.pk}/send-test/" in html
    assert "https://pub.example/pb?tid={transaction_id}" in html


def test_the_scripts_are_only_on_the_form(admin_client):
    page = admin_client.get("/admin/postbacks/postbackconfig/")

    assert page.status_code == 200 and "config-form.js" not in page.content.decode()


def test_the_form_still_saves_every_field(admin_client, publisher):
    from tests.delivery.conftest import admin_config_form

    form = admin_config_form(
        publisher,
        url="https://pub.example/pb?tid={transaction_id}",
        method="POST",
        body='{"tid": "{transaction_id}"}',
        content_type="json",
        fire_on_pending="on",
    )

    response = admin_client.post(ADD_URL, form)

    assert response.status_code == 302
    config = PostbackConfig.objects.get()
    assert (config.url, config.method, config.content_type, config.fire_on_pending) == (
        "https://pub.example/pb?tid={transaction_id}",
        "POST",
        "json",
        True,
    )


def test_preview_fills_macros_with_sample_values(admin_client, publisher, offer):
    response = preview(
        admin_client,
        url="https://pub.example/pb?tid={click_id}&s1={sub1}&pub={publisher_id}&o={offer_id}",
        publisher=publisher.pk,
        offer=offer.pk,
    )

    assert response.status_code == 200
    assert response.json() == {
        "url": "https://pub.example/pb?tid=TEST00000000000000000000&s1=sub%201%20%26%20more"
        f"&pub={publisher.pk}&o={offer.pk}",
        "method": "GET",
        "content_type": "",
        "body": "",
        "problems": [],
    }
    assert not PostbackConfig.objects.exists() and not PostbackLog.objects.exists()


def test_preview_renders_a_json_body(admin_client):
    response = preview(
        admin_client, method="POST", content_type="json", body='{"s1": "{sub1}", "st": "{status}"}'
    )

    answer = response.json()
    assert (answer["method"], answer["content_type"]) == ("POST", "application/json")
    assert json.loads(answer["body"]) == {"s1": "sub 1 & more", "st": "approved"}


def test_preview_of_a_post_without_body_template_sends_every_macro(admin_client):
    answer = preview(admin_client, method="POST", content_type="form").json()

    assert "transaction_id=TEST00000000000000000000" in answer["body"]
    assert answer["content_type"] == "application/x-www-form-urlencoded"


def test_preview_names_an_unknown_macro(admin_client):
    answer = preview(admin_client, url="https://pub.example/pb?tid={transaction_idd}").json()

    assert answer["problems"] == [
        "Unknown macro {transaction_idd} in the URL template (did you mean {transaction_id}?): "
        "saving refuses it."
    ]
    assert answer["url"] == "https://pub.example/pb?tid={transaction_idd}"


def test_preview_names_an_unknown_macro_in_the_body(admin_client):
    answer = preview(admin_client, method="POST", body="x={nope}").json()

    assert answer["problems"] == ["Unknown macro {nope} in the body template: saving refuses it."]


def test_preview_warns_of_macros_empty_in_this_type(admin_client):
    answer = preview(
        admin_client, url="https://pub.example/pb?r={rejection_reason}", postback_type="click"
    ).json()

    assert answer["problems"] == ["{rejection_reason}: always empty in Click postbacks."]
    assert answer["url"] == "https://pub.example/pb?r="


def test_preview_warns_of_a_body_on_get(admin_client):
    answer = preview(admin_client, body="a={sub1}").json()

    assert answer["problems"] == ["GET sends no body: the body template is used only with POST."]


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://10.0.0.1/pb?t={transaction_id}", "10.0.0.1 is a private address"),
        ("http://169.254.169.254/latest", "169.254.169.254 is a link-local address"),
        ("http://[fd00::1]/pb", "fd00::1 is a private address"),
        ("ftp://pub.example/pb", "Use an http:// or https:// URL."),
    ],
)
def test_preview_refuses_blocked_literal_targets(admin_client, url, words):
    answer = preview(admin_client, url=url).json()

    assert len(answer["problems"]) == 1 and words in answer["problems"][0]
    assert not PostbackLog.objects.exists()


def test_preview_refuses_a_macro_choosing_the_host(admin_client):
    answer = preview(admin_client, url="https://{sub1}.example/pb").json()

    assert answer["url"] == ""
    assert answer["problems"] == [
        "The URL template puts {sub1} in the host: whoever fills it in would choose where "
        "postbacks go. Use macros only in the path or query."
    ]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"url": ""}, "url"),
        ({"method": "PUT"}, "method"),
        ({"postback_type": "install"}, "postback_type"),
        ({"content_type": "xml"}, "content_type"),
        ({"offer": "999999"}, "offer"),
        ({"publisher": "abc"}, "publisher"),
        ({"url": "https://pub.example/" + "x" * 2000}, "url"),
    ],
)
def test_preview_answers_400_naming_the_field(admin_client, fields, field):
    response = preview(admin_client, **fields)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


def test_preview_answers_400_without_fields(admin_client):
    response = admin_client.post(PREVIEW_URL, {})

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"url", "method", "postback_type"}


def test_preview_is_post_only(admin_client):
    assert admin_client.get(PREVIEW_URL).status_code == 405


def test_preview_never_shows_a_signing_secret(admin_client, make_config):
    secret = new_secret()
    config = make_config("https://pub.example/pb?tid={transaction_id}", secret=secret)

    form_page = admin_client.get(f"/admin/postbacks/postbackconfig/{config.pk}/change/")
    response = preview(admin_client, secret=secret, previous_secret=secret, method="POST")

    assert response.status_code == 200 and form_page.status_code == 200
    text = response.content.decode()
    assert secret not in text and secret.removeprefix("whsec_") not in text
    assert "webhook-signature" not in text


def test_preview_needs_staff(client, django_user_model):
    assert preview(client).status_code == 302  # to the admin login
    user = django_user_model.objects.create_user("advertiser", password="pw")
    client.force_login(user)
    response = preview(client)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_preview_needs_add_or_change_permission(django_user_model):
    viewer = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_postbackconfig"))
    client = Client()
    client.force_login(viewer)

    assert preview(client).status_code == 403

    viewer.user_permissions.add(Permission.objects.get(codename="change_postbackconfig"))
    client.force_login(django_user_model.objects.get(pk=viewer.pk))  # fresh permission cache
    assert preview(client).status_code == 200


def test_preview_needs_the_csrf_token(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)

    assert preview(client).status_code == 403
