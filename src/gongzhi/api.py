"""The JSON API at /api/v1/: the frame (gongzhi.core.api: one error shape) with every app's router
mounted. Only this module and urls.py know the routers; apps import authentication from
gongzhi.accounts.authentication, never from here.
"""

from gongzhi.core.api import build_api, fallback_router

api = build_api(
    title="Gongzhi 共治 API",
    version="1",
    urls_namespace="api",
    docs_url="/docs",
)

# The order matters where paths overlap: /appeals/board before /appeals/{number}.
for router in (
    "gongzhi.places.api.router",
    "gongzhi.org.api.router",
    "gongzhi.accounts.api.router",
    "gongzhi.appeals.api_board.router",  # /appeals/board is not an appeal number
    "gongzhi.appeals.api.router",
    "gongzhi.appeals.api_kpi.router",
    "gongzhi.appeals.api_public.router",
    "gongzhi.notifications.api.router",
    "gongzhi.lists.api.router",
    "gongzhi.lists.api_matching.router",
    "gongzhi.volunteering.api.router",
    "gongzhi.timebank.api.router",
    "gongzhi.deliberation.api.router",
    "gongzhi.deliberation.api_register.router",
    "gongzhi.deliberation.api_votes.router",
    "gongzhi.org.api_pick.router",
):
    api.add_router("/", router)
api.add_router("/", fallback_router())  # last
