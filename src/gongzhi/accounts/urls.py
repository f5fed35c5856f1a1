from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

manage_patterns = [
    path("users/", views.users, name="users"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/export.xlsx", views.users_export, name="users_export"),
    path("users/<int:pk>/", views.user_detail, name="user"),
    path("users/<int:pk>/roles/", views.role_grant, name="role_grant"),
    path("users/<int:pk>/active/", views.user_set_active, name="user_set_active"),
    path("roles/<int:pk>/revoke/", views.role_revoke, name="role_revoke"),
    path("lockouts/", views.lockouts, name="lockouts"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
]

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="accounts/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include((manage_patterns, "accounts"))),
]
