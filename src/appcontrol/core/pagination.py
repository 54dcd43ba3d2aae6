from django.conf import settings
from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=` and `?page_size=` with a hard maximum; `next` keeps every other query parameter."""

    page_size = settings.APPCONTROL_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = settings.APPCONTROL_MAX_PAGE_SIZE
