from rest_framework.routers import SimpleRouter


class ApiRouter(SimpleRouter):
    """Routes that match with or without the trailing slash (divio-cli calls some paths without)."""

    def __init__(self):
        super().__init__(trailing_slash=True)
        self.trailing_slash = "/?"
