"""Server-rendered pages; the chat itself runs in the ES-module client (static/web/)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def chat(request: HttpRequest) -> HttpResponse:
    return render(request, "web/chat.html")
