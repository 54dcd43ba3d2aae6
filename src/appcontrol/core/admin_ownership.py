"""Admin pages of objects whose owner (the row they belong to) is chosen once, when they are created."""


class OwnerFixedOnceCreated:
    """The owner an object was created under stays, read-only on its change page: who may see the object, and
    the rows below it, follows that owner to its organisation (accounts.ownership)."""

    owner_field: str

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return [*fields, self.owner_field] if obj is not None else fields
