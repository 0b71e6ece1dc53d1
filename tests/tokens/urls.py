"""Fleet's URLs plus a POST endpoint that declares nothing about permissions, as the write endpoints to come:
it shows what the API's defaults do to an unsafe method."""

from __future__ import annotations

from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fleet.conf.urls import urlpatterns as fleet_urlpatterns


class Echo(APIView):
    def post(self, request: Request) -> Response:
        return Response({"user": request.user.get_username(), "data": request.data})


urlpatterns = [path("api/test-write/", Echo.as_view()), *fleet_urlpatterns]
