"""The API of SPEC §8: advertisers' conversions and logs, and staff management.

Views stay thin: validate, call a service from postbacks.services, answer. Every
queryset goes through api.access.scoped, so an advertiser's key never reaches another
advertiser's rows (they answer 404).
"""

import django_filters
from django import forms
from django.http import Http404
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import (
    exceptions,
    mixins,
    parsers,
    permissions,
    renderers,
    serializers,
    status,
    viewsets,
)
from rest_framework.decorators import action, api_view, permission_classes
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from alerts.models import Alert, AlertKind, AlertRule, AlertState
from api.access import (
    CanReadLogs,
    IsStaff,
    IsStaffOrAdvertiser,
    PostbackConfigAccess,
    caller_advertiser,
    is_staff,
    scoped,
)
from api.errors import Conflict
from api.idempotency import HEADER as IDEMPOTENCY_HEADER
from api.idempotency import KEY_PATTERN as IDEMPOTENCY_KEY_PATTERN
from api.idempotency import idempotent
from api.pagination import NewestCreatedFirst, NewestFirst
from api.serializers import (
    AdvertiserSerializer,
    AlertRuleSerializer,
    AlertSerializer,
    BulkQueuedSerializer,
    BulkRefireSerializer,
    ConversionSerializer,
    ErasureRequestSerializer,
    ErasureSerializer,
    ErrorSerializer,
    OfferEventSerializer,
    OfferSerializer,
    PortalPostbackConfigSerializer,
    PostbackConfigSerializer,
    PostbackLogSerializer,
    PublisherSerializer,
    QueuedSerializer,
    ReconciliationMatchRequestSerializer,
    ReconciliationMatchSerializer,
    ReconciliationSerializer,
    RefireSerializer,
    RejectSerializer,
    StatsQuerySerializer,
    StatsSerializer,
    TestAttemptSerializer,
)
from logs.export import (
    EXPORT_COLUMNS,
    EXPORT_COLUMNS_PARAMETER,
    chosen_columns,
    csv_response,
    export_filename,
)
from logs.filters import (
    COLUMN_OPERATORS,
    COLUMNS,
    OPERATOR_SUFFIXES,
    UtcIsoDateTimeFilter,
    filter_logs,
)
from offers.models import Advertiser, Conversion, ConversionStatus, Offer, OfferEvent, Publisher
from postbacks import services, stats
from postbacks.models import PostbackConfig, PostbackLog
from privacy import erasure
from reports import matching, reconciliation

ID_MAX = 2**63 - 1
PAGE_PARAMETERS = ("cursor", "page_size", "format")

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    {"type": "string", "pattern": f"^{IDEMPOTENCY_KEY_PATTERN.pattern}$"},
    OpenApiParameter.HEADER,
    description=(
        "Any unique string (1-255 visible ASCII characters). A retried request with the same "
        "key returns the first answer (with Idempotent-Replayed: true) and queues nothing "
        "twice; the same key with a different body answers 422. Kept 24 hours."
    ),
)

# ConversionFilter's bounds, which the schema django-filter gives leaves out.
CONVERSION_FILTER_PARAMETERS = [
    OpenApiParameter("transaction_id", {"type": "string", "maxLength": 64}),
    *(
        OpenApiParameter(name, {"type": "integer", "minimum": 1, "maximum": ID_MAX})
        for name in ("offer_id", "publisher_id")
    ),
]


def error_responses(*codes: int) -> dict:
    """Schema entries for error answers: {"errors": {field_or_param: [messages]}}."""
    return {code: OpenApiResponse(ErrorSerializer, description="Error") for code in codes}


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter, plus a 400 for parameters the endpoint does not know."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        known = set(PAGE_PARAMETERS)
        if filterset_class is not None:
            known |= set(filterset_class.base_filters)
        unknown = sorted(set(request.query_params) - known)
        if unknown:
            raise exceptions.ValidationError({name: ["Unknown parameter."] for name in unknown})
        return super().filter_queryset(request, queryset, view)


class IdFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class ConversionFilter(django_filters.FilterSet):
    transaction_id = django_filters.CharFilter(max_length=64)
    offer_id = IdFilter(field_name="offer_id", min_value=1, max_value=ID_MAX)
    publisher_id = IdFilter(field_name="publisher_id", min_value=1, max_value=ID_MAX)
    status = django_filters.ChoiceFilter(choices=ConversionStatus.choices)
    created_after = UtcIsoDateTimeFilter(
        field_name="created", lookup_expr="gte", label="Created at or after (ISO 8601)"
    )
    created_before = UtcIsoDateTimeFilter(
        field_name="created", lookup_expr="lt", label="Created before (ISO 8601)"
    )

    class Meta:
        model = Conversion
        fields: list[str] = []


class ApiViewMixin(APIView):
    """Shared by every API view: errors for a bad ?format, strict query strings."""

    filter_backends = [StrictFilterBackend]

    def perform_content_negotiation(self, request, force=False):
        try:
            return super().perform_content_negotiation(request, force)
        except Http404:
            raise exceptions.ValidationError(
                {"format": ["Unknown format: use json (or csv for postback logs)."]}
            ) from None


@extend_schema(tags=["conversions"])
class ConversionViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """An advertiser's conversions (staff: everyone's), newest first, with deliveries."""

    serializer_class = ConversionSerializer
    permission_classes = [IsStaffOrAdvertiser]
    pagination_class = NewestCreatedFirst
    filterset_class = ConversionFilter
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        conversions = Conversion.objects.prefetch_related("deliveries__config")
        return scoped(conversions, self.request.user)

    @extend_schema(
        parameters=CONVERSION_FILTER_PARAMETERS,
        responses={200: ConversionSerializer, **error_responses(400, 401, 403)},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={200: ConversionSerializer, **error_responses(401, 403, 404)})
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Re-fire a conversion's postbacks",
        request=RefireSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={202: QueuedSerializer, **error_responses(400, 401, 403, 404, 409, 422)},
    )
    @action(detail=True, methods=["post"])
    def refire(self, request, pk=None):
        conversion = self.get_object()
        payload = _validated(RefireSerializer, request)

        def work():
            queued = services.refire_conversion(conversion, only_failed=payload["only_failed"])
            return Response({"queued": queued}, status=status.HTTP_202_ACCEPTED)

        return idempotent(request, payload, work)

    @extend_schema(
        summary="Re-fire the conversions of many transaction IDs",
        operation_id="conversions_bulk_refire",
        request=BulkRefireSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={202: BulkQueuedSerializer, **error_responses(400, 401, 403, 409, 422)},
    )
    @action(detail=False, methods=["post"], url_path="refire", url_name="bulk-refire")
    def bulk_refire(self, request):
        payload = _validated(BulkRefireSerializer, request)
        transaction_ids = list(dict.fromkeys(payload["transaction_ids"]))
        payload["transaction_ids"] = transaction_ids
        conversions = scoped(Conversion.objects.all(), request.user).filter(
            transaction_id__in=transaction_ids
        )

        def work():
            found = set(conversions.values_list("transaction_id", flat=True))
            queued = services.refire_conversions(conversions, payload["only_failed"])
            not_found = [tid for tid in transaction_ids if tid not in found]
            body = {"queued": queued, "not_found": not_found}
            return Response(body, status=status.HTTP_202_ACCEPTED)

        return idempotent(request, payload, work)

    @extend_schema(
        summary="Reject a conversion and fire the publishers' Rejection postbacks",
        request=RejectSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={200: ConversionSerializer, **error_responses(400, 401, 403, 404, 409, 422)},
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        conversion = self.get_object()
        payload = _validated(RejectSerializer, request)
        return idempotent(
            request,
            payload,
            lambda: self._transition(services.reject_conversion, conversion, payload["reason"]),
        )

    @extend_schema(
        summary="Approve a pending conversion and fire its postbacks",
        request=None,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={200: ConversionSerializer, **error_responses(401, 403, 404, 409, 422)},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        conversion = self.get_object()
        return idempotent(
            request, {}, lambda: self._transition(services.approve_conversion, conversion)
        )

    def _transition(self, change, conversion, *args) -> Response:
        try:
            change(conversion, *args)
        except services.TransitionError as problem:
            raise Conflict(str(problem), key="status") from None
        conversion = self.get_queryset().get(pk=conversion.pk)
        return Response(self.get_serializer(conversion).data)


def _validated(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class CSVRenderer(renderers.BaseRenderer):
    """Lets ?format=csv through content negotiation; the view streams the CSV itself."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


def _log_filter_parameters() -> list[OpenApiParameter]:
    """The §7 query string, shared with the /logs/ page and its CSV."""
    parameters = []
    for column in COLUMNS:
        for operator in COLUMN_OPERATORS[column]:
            parameters.append(
                OpenApiParameter(
                    column + OPERATOR_SUFFIXES[operator],
                    {"type": "array", "items": {"type": "string"}},
                    explode=True,
                    description=f"{column}: {operator} (repeat for several values).",
                )
            )
    for name, meaning in (("created_after", "at or after"), ("created_before", "before")):
        parameters.append(
            OpenApiParameter(name, OpenApiTypes.DATETIME, description=f"Created {meaning}.")
        )
    parameters.append(
        OpenApiParameter(
            "format", OpenApiTypes.STR, enum=["json", "csv"], description="csv streams every row."
        )
    )
    parameters.append(
        OpenApiParameter(
            EXPORT_COLUMNS_PARAMETER,
            {"type": "array", "items": {"type": "string", "enum": list(EXPORT_COLUMNS)}},
            explode=True,
            description="With format=csv: the columns, in this order (repeat, or separate "
            "with commas); default the SPEC §5 columns. An unknown column is a 400.",
        )
    )
    return parameters


class LogRefireSerializer(serializers.Serializer):
    include_succeeded = serializers.BooleanField(
        default=False,
        help_text="Also re-open deliveries that already succeeded (default false).",
    )


class LogRefireResultSerializer(serializers.Serializer):
    deliveries = serializers.IntegerField(
        help_text="Distinct deliveries re-opened (those of disabled configs are skipped)."
    )


REFIRE_MATCHING_DESCRIPTION = (
    "Re-opens, in this request, the distinct deliveries behind the log rows the §7 filters "
    "match (an advertiser's key: only its own offers' rows): not yet succeeded ones unless "
    "include_succeeded, never those of disabled configs. Each is fired again with trigger "
    "refire and its webhook-id, in chunks of 1,000 per UPDATE. At most "
    f"{services.REFIRE_MATCHING_LIMIT:,} deliveries per call: above that, a 400 and "
    "nothing re-opened."
)


@extend_schema(tags=["postback logs"])
class PostbackLogViewSet(ApiViewMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Postback attempts, with the /logs/ page's filters; JSON pages or a streamed CSV."""

    serializer_class = PostbackLogSerializer
    permission_classes = [CanReadLogs]
    pagination_class = NewestFirst
    filter_backends: list = []
    renderer_classes = [renderers.JSONRenderer, renderers.BrowsableAPIRenderer, CSVRenderer]

    def get_queryset(self):
        return scoped(PostbackLog.objects.all(), self.request.user)

    def handle_exception(self, exc):
        # Errors are JSON even when CSV was asked for.
        if getattr(self.request, "accepted_renderer", None).__class__ is CSVRenderer:
            self.request.accepted_renderer = renderers.JSONRenderer()
            self.request.accepted_media_type = renderers.JSONRenderer.media_type
        return super().handle_exception(exc)

    @extend_schema(
        parameters=_log_filter_parameters(),
        responses={
            (200, "application/json"): PostbackLogSerializer(many=True),
            (200, "text/csv"): OpenApiTypes.STR,
            **error_responses(400, 401, 403),
        },
    )
    def list(self, request, *args, **kwargs):
        logs, errors = filter_logs(
            request.query_params,
            self.get_queryset(),
            ignore=(*PAGE_PARAMETERS, EXPORT_COLUMNS_PARAMETER),
        )
        columns, column_error = chosen_columns(
            request.query_params.getlist(EXPORT_COLUMNS_PARAMETER)
        )
        if column_error:
            errors = {**errors, EXPORT_COLUMNS_PARAMETER: [column_error]}
        if errors:
            raise exceptions.ValidationError(errors)
        if request.accepted_renderer.format == "csv":
            filters = request.query_params.copy()
            for name in (*PAGE_PARAMETERS, EXPORT_COLUMNS_PARAMETER):
                filters.pop(name, None)
            return csv_response(
                logs, filename=export_filename(filters, timezone.now()), columns=columns
            )
        page = self.paginate_queryset(logs)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="Re-fire the deliveries behind the matching log rows",
        description=REFIRE_MATCHING_DESCRIPTION,
        parameters=[p for p in _log_filter_parameters() if p.name != "format"],
        request=LogRefireSerializer,
        responses={202: LogRefireResultSerializer, **error_responses(400, 401, 403)},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="refire",
        url_name="refire",
        renderer_classes=[renderers.JSONRenderer],
        permission_classes=[IsStaffOrAdvertiser],  # publishers read their attempts only
    )
    def refire(self, request):
        payload = _validated(LogRefireSerializer, request)
        logs, errors = filter_logs(request.query_params, self.get_queryset())
        if errors:
            raise exceptions.ValidationError(errors)
        try:
            reopened = services.refire_matching(logs, payload["include_succeeded"])
        except services.TooManyDeliveries as problem:
            raise exceptions.ValidationError({"filters": [str(problem)]}) from None
        return Response({"deliveries": reopened}, status=status.HTTP_202_ACCEPTED)


@extend_schema(exclude=True)
@api_view(["GET"])
@permission_classes([permissions.AllowAny])
def api_root(request):
    """Where things are: the docs, the schema and each collection (keys still needed there)."""
    basenames = {
        "conversions": "conversion",
        "postback-logs": "postback-log",
        "advertisers": "advertiser",
        "offers": "offer",
        "offer-events": "offer-event",
        "publishers": "publisher",
        "postback-configs": "postback-config",
        "alert-rules": "alert-rule",
        "alerts": "alert",
    }
    links = {name: reverse(f"{base}-list", request=request) for name, base in basenames.items()}
    links["stats"] = reverse("stats", request=request)
    links["schema"] = reverse("schema", request=request)
    links["docs"] = reverse("swagger-ui", request=request)
    links["redoc"] = reverse("redoc", request=request)
    return Response(links)


@extend_schema(tags=["management (staff)"])
class StaffViewSet(ApiViewMixin, viewsets.ModelViewSet):
    """CRUD for staff; an advertiser's key gets 403."""

    permission_classes = [IsStaff]
    pagination_class = NewestFirst
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        return scoped(super().get_queryset(), self.request.user)


class AdvertiserViewSet(StaffViewSet):
    queryset = Advertiser.objects.all()
    serializer_class = AdvertiserSerializer


class OfferViewSet(StaffViewSet):
    queryset = Offer.objects.all()
    serializer_class = OfferSerializer


class OfferEventViewSet(StaffViewSet):
    queryset = OfferEvent.objects.all()
    serializer_class = OfferEventSerializer


class PublisherViewSet(StaffViewSet):
    queryset = Publisher.objects.all()
    serializer_class = PublisherSerializer


class PostbackConfigViewSet(StaffViewSet):
    """CRUD for staff; a publisher's portal user reads its own configs, sends tests, and
    edits what is sent when its publisher allows it (PostbackConfigAccess)."""

    queryset = PostbackConfig.objects.all()
    serializer_class = PostbackConfigSerializer
    permission_classes = [PostbackConfigAccess]

    def get_serializer_class(self):
        if getattr(self, "swagger_fake_view", False) or is_staff(self.request.user):
            return PostbackConfigSerializer
        return PortalPostbackConfigSerializer

    def perform_update(self, serializer):
        # Enabling goes through the service, which also resets the failure count.
        enabling = serializer.validated_data.get("enabled") and not serializer.instance.enabled
        if enabling:
            serializer.validated_data["enabled"] = False
        config = serializer.save()
        if enabling:
            services.enable_config(config)

    @extend_schema(
        summary="Fire a test postback with sample values and return the attempt",
        request=None,
        responses={200: TestAttemptSerializer, **error_responses(401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        attempt = services.send_test(self.get_object())
        return Response(TestAttemptSerializer(attempt).data)


class AlertFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=AlertState.choices)
    kind = django_filters.ChoiceFilter(choices=AlertKind.choices)
    rule = IdFilter(field_name="rule_id", min_value=1, max_value=ID_MAX)
    config = IdFilter(field_name="config_id", min_value=1, max_value=ID_MAX)

    class Meta:
        model = Alert
        fields = ["state", "kind", "rule", "config"]


@extend_schema(tags=["alerts (staff)"])
class AlertRuleViewSet(StaffViewSet):
    """Alert rules (SPEC §11), evaluated by the worker every minute."""

    queryset = AlertRule.objects.all()
    serializer_class = AlertRuleSerializer


@extend_schema(tags=["alerts (staff)"])
class AlertViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """Alerts, open and resolved, newest first; they open and resolve by themselves."""

    queryset = Alert.objects.all()
    serializer_class = AlertSerializer
    permission_classes = [IsStaff]
    pagination_class = NewestFirst
    lookup_value_regex = r"[0-9]+"
    filter_backends = [StrictFilterBackend]
    filterset_class = AlertFilter


STATS_PARAMETERS = ("window", "by", "format")


@extend_schema(tags=["stats"])
class StatsView(ApiViewMixin, APIView):
    """Delivery health (SPEC §11) from the rollups: per group, the backlog, a series.

    Staff see every delivery; an advertiser's key its own offers' only.
    """

    permission_classes = [IsStaffOrAdvertiser]

    @extend_schema(
        summary="Delivery health figures over a window",
        parameters=[
            OpenApiParameter("window", OpenApiTypes.STR, enum=list(stats.WINDOWS), default="24h"),
            OpenApiParameter(
                "by", OpenApiTypes.STR, enum=list(stats.GROUPINGS), default="publisher"
            ),
        ],
        responses={200: StatsSerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request):
        unknown = sorted(set(request.query_params) - set(STATS_PARAMETERS))
        if unknown:
            raise exceptions.ValidationError({name: ["Unknown parameter."] for name in unknown})
        query = _validated_query(StatsQuerySerializer, request)
        advertiser = None if is_staff(request.user) else caller_advertiser(request.user)
        # Already in the shape StatsSerializer documents, in JSON's own types (the encoder
        # writes the series' datetimes in ISO 8601); serializing 400 groups field by field
        # would cost more than the queries (bench/overview.py).
        return Response(stats.stats(query["window"], query["by"], advertiser))


@extend_schema(tags=["reports"])
class ReconciliationView(ApiViewMixin, APIView):
    """The reconciliation report (SPEC §13): per publisher and UTC day of the conversion,
    conversions, events, revenue, payout, and what became of their postbacks.

    Staff see every conversion; an advertiser's key its own offers' only.
    """

    permission_classes = [IsStaffOrAdvertiser]

    @extend_schema(
        summary="Reconciliation per publisher and day",
        parameters=[
            OpenApiParameter(
                "date_from", OpenApiTypes.DATE, description="First day (UTC); default the 1st."
            ),
            OpenApiParameter("date_to", OpenApiTypes.DATE, description="Last day; default today."),
            OpenApiParameter("publisher", OpenApiTypes.INT, description="Only this publisher."),
        ],
        responses={200: ReconciliationSerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request):
        period, publisher, errors = reconciliation.parameters(request.query_params)
        if errors or period is None:
            raise exceptions.ValidationError({name: [text] for name, text in errors.items()})
        advertiser = None if is_staff(request.user) else caller_advertiser(request.user)
        rows = reconciliation.report(period, publisher, advertiser)
        return Response(
            {
                "date_from": period.date_from,
                "date_to": period.date_to,
                "publisher": publisher.pk if publisher is not None else None,
                "rows": [_money_as_text(row) for row in rows],
                "totals": _money_as_text(reconciliation.totals(rows)),
            }
        )


@extend_schema(tags=["reports"])
class ReconciliationMatchView(ApiViewMixin, APIView):
    """Two-sided reconciliation (SPEC §13): a publisher's report against our conversions.

    Nothing is stored: the answer is the three lists. A file that cannot be read is a 400
    under `file` naming the problem and its line.
    """

    permission_classes = [IsStaffOrAdvertiser]
    parser_classes = [parsers.MultiPartParser, parsers.FormParser]

    @extend_schema(
        summary="Match a publisher's report",
        request={"multipart/form-data": ReconciliationMatchRequestSerializer},
        responses={200: ReconciliationMatchSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request):
        query = ReconciliationMatchRequestSerializer(data=request.data)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        period, errors = reconciliation.period_errors(
            data["date_from"].isoformat(), data["date_to"].isoformat()
        )
        if errors or period is None:
            raise exceptions.ValidationError({name: [text] for name, text in errors.items()})
        upload = data["file"]
        if upload.size > matching.MAX_UPLOAD_BYTES:
            raise exceptions.ValidationError({"file": ["The file is over 50 MB."]})
        columns = matching.Columns(
            data["transaction_id_column"], data["event_column"], data["time_column"]
        )
        advertiser = None if is_staff(request.user) else caller_advertiser(request.user)
        try:
            found = matching.match(upload.read(), data["publisher"], period, columns, advertiser)
        except matching.UploadError as problem:
            raise exceptions.ValidationError({"file": [str(problem)]}) from None
        return Response(found.as_dict())


@extend_schema(tags=["privacy"])
class ErasureView(ApiViewMixin, APIView):
    """Erase a person's device identifiers and user IDs (SPEC §14) from the matching
    clicks, conversions and installs and the log rows of their postbacks; the answer
    counts what was (or is being) erased, and an audit record keeps the counts without
    the values. An advertiser's key reaches its own offers' data only."""

    permission_classes = [IsStaffOrAdvertiser]

    @extend_schema(
        summary="Erase device identifiers and user IDs",
        request=ErasureRequestSerializer,
        responses={200: ErasureSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request):
        query = ErasureRequestSerializer(data=request.data)
        query.is_valid(raise_exception=True)
        advertiser = None if is_staff(request.user) else caller_advertiser(request.user)
        record, in_background = erasure.start(
            query.validated_data["device_ids"],
            query.validated_data["user_ids"],
            advertiser,
            requested_by=str(request.user),
        )
        return Response(
            {
                "clicks": record.clicks,
                "conversions": record.conversions,
                "logs": record.logs,
                "erasure": record.pk,
                "in_background": in_background,
            }
        )


def _money_as_text(row: dict) -> dict:
    return {**row, "revenue": str(row["revenue"]), "payout": str(row["payout"])}


def _validated_query(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
