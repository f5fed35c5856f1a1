"""Registry pages: organisation tree, member units, people (masked) and posts."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from gongzhi.core import scopes

from . import selectors


@login_required
def org_tree(request):
    scopes.require(request.user, "registry.view")
    orgs = Paginator(selectors.organizations_visible_to(request.user, q=request.GET.get("q", "")), 100)
    return render(request, "org/tree.html", {"page": orgs.get_page(request.GET.get("page"))})


@login_required
def units(request):
    scopes.require(request.user, "registry.view")
    agreements = Paginator(selectors.agreements_visible_to(request.user).order_by("membership__member__name"), 50)
    return render(request, "org/units.html", {"page": agreements.get_page(request.GET.get("page"))})


@login_required
def people(request):
    scopes.require(request.user, "registry.view")
    q = request.GET.get("q", "")
    page = Paginator(selectors.people_visible_to(request.user, q=q), 50).get_page(request.GET.get("page"))
    return render(request, "org/people.html", {"page": page, "q": q})


@login_required
def posts(request):
    scopes.require(request.user, "registry.view")
    page = Paginator(selectors.posts_visible_to(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "org/posts.html", {"page": page})
