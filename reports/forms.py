from django import forms

from offers.models import Publisher
from reports.matching import MAX_UPLOAD_BYTES, Columns
from reports.reconciliation import Period, period_errors


class MatchForm(forms.Form):
    """A publisher's report to reconcile: whose, which period, and which column is what."""

    publisher = forms.ModelChoiceField(Publisher.objects.order_by("name"))
    date_from = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    file = forms.FileField(help_text="CSV, UTF-8, with a header row; up to 50 MB.")
    transaction_id_column = forms.CharField(
        max_length=200,
        initial="transaction_id",
        help_text="The header of the column with our transaction IDs.",
    )
    event_column = forms.CharField(
        max_length=200, required=False, help_text="Optional: match by transaction ID and event."
    )
    time_column = forms.CharField(
        max_length=200,
        required=False,
        help_text="Optional: their rows outside the period are left out.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(f"The file is over {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
        return upload

    def clean(self):
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to"):
            _, errors = period_errors(data["date_from"].isoformat(), data["date_to"].isoformat())
            for name, text in errors.items():
                self.add_error(name, text)
        return data

    @property
    def period(self) -> Period:
        return Period(self.cleaned_data["date_from"], self.cleaned_data["date_to"])

    @property
    def columns(self) -> Columns:
        data = self.cleaned_data
        return Columns(data["transaction_id_column"], data["event_column"], data["time_column"])
