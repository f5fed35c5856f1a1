"""The place tree (city → building) and the grid tree (community grid → micro grid)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.core.search import keep_search_key


class PlaceKind(models.TextChoices):
    CITY = "city", _("市")
    DISTRICT = "district", _("区")
    STREET = "street", _("街道(镇)")
    COMMUNITY = "community", _("社区")
    COMPOUND = "compound", _("小区")
    BUILDING = "building", _("楼栋")


PLACE_PARENT_KIND = {
    PlaceKind.DISTRICT: PlaceKind.CITY,
    PlaceKind.STREET: PlaceKind.DISTRICT,
    PlaceKind.COMMUNITY: PlaceKind.STREET,
    PlaceKind.COMPOUND: PlaceKind.COMMUNITY,
    PlaceKind.BUILDING: PlaceKind.COMPOUND,
}


class Place(models.Model):
    """A node of the place tree.

    `code` is the statistical division code where one exists (city 4 digits padded to 12,
    district 6, street 9, community 12 digits); compounds and buildings get their parent's code
    plus three digits. `path` is the chain of codes ("/450100000000/450102000000/…/") so a
    subtree is one indexed prefix query.
    """

    kind = models.CharField(max_length=16, choices=PlaceKind.choices)
    code = models.CharField(max_length=24, unique=True)
    name = models.CharField(max_length=100)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    path = models.CharField(max_length=255, unique=True)
    depth = models.PositiveSmallIntegerField(default=0)
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    # Last grid sequence issued in this community: grid codes are never reused.
    grid_seq = models.PositiveIntegerField(default=0)
    # "daxiuchangxiaoqu dxcxq 大修厂小区": name, full pinyin and initials for the pickers (core.search).
    search_key = models.CharField(max_length=500, blank=True, editable=False)

    class Meta:
        ordering = ["path"]
        indexes = [models.Index(fields=["kind", "path"])]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.path = (self.parent.path if self.parent_id else "/") + self.code + "/"
        self.depth = self.path.count("/") - 2
        keep_search_key(self, kwargs)
        super().save(*args, **kwargs)


class GridLevel(models.TextChoices):
    COMMUNITY = "community", _("总网格")
    AREA = "area", _("片区网格")
    MICRO = "micro", _("微网格")


GRID_PARENT_LEVEL = {GridLevel.AREA: GridLevel.COMMUNITY, GridLevel.MICRO: GridLevel.AREA}


class Grid(models.Model):
    """A grid with its boundary (GeoJSON geometry, WGS84) and its place in the grid tree."""

    code = models.CharField(max_length=24, unique=True)
    name = models.CharField(max_length=100)
    level = models.CharField(max_length=16, choices=GridLevel.choices)
    community = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="grids")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    path = models.CharField(max_length=255, unique=True)
    # The community's place path, copied so "grids in my street" is one prefix query.
    place_path = models.CharField(max_length=255, db_index=True)
    geometry = models.JSONField()
    # Bounding box, kept for cheap map windows and the spatial index.
    min_lon = models.FloatField()
    min_lat = models.FloatField()
    max_lon = models.FloatField()
    max_lat = models.FloatField()
    retired_at = models.DateTimeField(null=True, blank=True)
    search_key = models.CharField(max_length=500, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        indexes = [models.Index(fields=["level", "place_path"])]

    def __str__(self):
        return f"{self.name} ({self.code})"

    def save(self, *args, **kwargs):
        self.path = (self.parent.path if self.parent_id else "/") + self.code + "/"
        self.place_path = self.community.path
        keep_search_key(self, kwargs)
        super().save(*args, **kwargs)


class GridIndexVersion(models.Model):
    """Bumped on every grid change so each process knows when to rebuild its spatial index."""

    version = models.BigIntegerField(default=0)


class Landmark(models.Model):
    """A point residents name a spot by (a market, a school gate, a bus stop), registered by staff of
    its community so that place search finds it beside the communities, compounds and buildings."""

    name = models.CharField(max_length=100)
    community = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="landmarks")
    # The community's place path, copied so scope checks are prefix tests as for every registry row.
    place_path = models.CharField(max_length=255, db_index=True)
    lon = models.FloatField()
    lat = models.FloatField()
    note = models.CharField(max_length=200, blank=True)
    search_key = models.CharField(max_length=500, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name

    def scope_paths(self) -> dict[str, str]:
        return {"place": self.place_path}

    def save(self, *args, **kwargs):
        self.place_path = self.community.path
        keep_search_key(self, kwargs)
        super().save(*args, **kwargs)
