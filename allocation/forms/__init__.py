"""Forms of the allocation app's pages, one module per portal. Forms validate input; services change state.

The two helpers below carry a service's refusal back to the page that asked for the change."""
from django.core.exceptions import ValidationError


def refusal_text(error: Exception) -> str:
    """A service's refusal as one message: an ``ApplicationError``'s message, or a ``ValidationError``'s."""
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return error.message


def form_refusal(form, error: Exception, *, fields: dict[str, str] | None = None) -> None:
    """Put a service's refusal on the form: on the field it names where the form has one (``fields`` maps a
    service's field name to the form's where they differ), else on top."""
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for field, problems in error.message_dict.items():
            field = (fields or {}).get(field, field)
            form.add_error(field if field in form.fields else None, problems)
    elif isinstance(error, ValidationError):
        form.add_error(None, error.messages)
    else:
        form.add_error(None, error.message)
