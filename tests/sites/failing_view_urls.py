"""Parley's URLs and /test-failure/, a view that fails (tests/sites/failing_view.py)."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from parley.urls import urlpatterns as parley_urlpatterns


@csrf_exempt
def fail(request: HttpRequest) -> HttpResponse:
    body = request.body.decode()  # a local variable holding what the client wrote
    key = request.headers.get("Authorization", "")
    raise RuntimeError(f"the failing view failed ({len(body)} bytes, {len(key)})")


urlpatterns = [path("test-failure/", fail), *parley_urlpatterns]
