"""Language choice: Simplified Chinese unless the user switched; API clients may ask by header."""

from django.conf import settings
from django.utils import translation
from django.utils.translation import check_for_language, get_language_from_request


class LanguageMiddleware:
    """Pages default to Chinese whatever the browser says (an English-language phone in a Chinese
    community still expects the community's language); the switch sets a cookie. The JSON API honours
    Accept-Language (or an explicit `locale` query parameter) so integrators can read errors in English."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        lang = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if request.path.startswith(("/api/", "/open311/")):
            # GeoReport clients may name the language with `locale` (e.g. ?locale=en); it wins when valid.
            asked = (request.GET.get("locale") or "").replace("_", "-").lower()
            if asked and check_for_language(asked):
                lang = asked
        if not lang or not check_for_language(lang):
            if request.path.startswith(("/api/", "/open311/")):
                lang = get_language_from_request(request)
            else:
                lang = settings.LANGUAGE_CODE
        translation.activate(lang)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response
