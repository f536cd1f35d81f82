"""The portal's forms: a publisher's own postback config, and conversion filters."""

from django import forms

from offers.models import REJECTION_REASON_MAX_LENGTH, ConversionStatus, Offer
from postbacks import rules
from postbacks.models import PostbackConfig


class EmptyIsNullJSONField(forms.JSONField):
    """Shows no value as an empty box, not `null` (an empty box reads back as None)."""

    def prepare_value(self, value):
        return "" if value is None else super().prepare_value(value)


class PublisherConfigForm(forms.ModelForm):
    """What a publisher's portal user may change (when its publisher allows it). Secret
    URL parameters and credential headers show as `****`; leaving `****` keeps them."""

    class Meta:
        model = PostbackConfig
        fields = PostbackConfig.PUBLISHER_EDITABLE_FIELDS
        widgets = {
            "url": forms.TextInput(attrs={"class": "mono", "size": 80}),
            "body": forms.Textarea(attrs={"rows": 4, "class": "mono"}),
            "headers": forms.Textarea(attrs={"rows": 3, "class": "mono"}),
            "success_rule": forms.Textarea(attrs={"rows": 2, "class": "mono"}),
            "event_names": forms.Textarea(attrs={"rows": 2, "class": "mono"}),
            "secret_parameters": forms.Textarea(attrs={"rows": 1, "class": "mono"}),
        }
        labels = {"url": "URL", "accept_window_hours": "Accept window (hours)"}
        field_classes = {"success_rule": EmptyIsNullJSONField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        config = self.instance
        self.initial["url"] = rules.masked_url(config.url, config.secret_parameters or [])
        self.initial["headers"] = rules.masked_headers(config.headers or {})


TIME_HINT = "YYYY-MM-DD HH:MM"


class ConversionFilterForm(forms.Form):
    """The advertiser's conversion list: by transaction ID, offer, status and time."""

    transaction_id = forms.CharField(required=False, max_length=64, label="Transaction ID")
    offer = forms.ModelChoiceField(queryset=Offer.objects.none(), required=False)
    status = forms.ChoiceField(
        choices=[("", "Any status"), *ConversionStatus.choices], required=False
    )
    created_after = forms.DateTimeField(
        required=False, label="From", widget=forms.TextInput(attrs={"placeholder": TIME_HINT})
    )
    created_before = forms.DateTimeField(
        required=False, label="To", widget=forms.TextInput(attrs={"placeholder": TIME_HINT})
    )
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, offers, **kwargs):
        super().__init__(*args, **kwargs)
        offer_field = self.fields["offer"]
        assert isinstance(offer_field, forms.ModelChoiceField)
        offer_field.queryset = offers
        offer_field.empty_label = "Any offer"


class RejectForm(forms.Form):
    reason = forms.CharField(max_length=REJECTION_REASON_MAX_LENGTH, strip=True)


class RefireForm(forms.Form):
    only_failed = forms.BooleanField(required=False)
