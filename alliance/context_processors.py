from django.conf import settings


def platform(request):
    """What every page needs to know: the user's membership (if any) and the languages on offer."""
    membership = getattr(request.user, "membership", None) if request.user.is_authenticated else None
    return {"membership": membership, "LANGUAGES": settings.LANGUAGES}
