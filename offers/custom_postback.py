"""GET|POST /api/v1/custom-postback/ — installs from trackers without an integration."""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def custom_postback(request):
    return JsonResponse({"errors": {"endpoint": ["Not available yet."]}}, status=404)
