"""The shapes of the reviews API (shared/API.md, "Reviews and recommendations")."""

from __future__ import annotations

from rest_framework import serializers

from reviews.models import BODY_MAX_LENGTH, REPLY_MAX_LENGTH, REPORT_REASON_MAX_LENGTH, TITLE_MAX_LENGTH


class ReviewWriteSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5, help_text="Stars, 1 to 5.")
    title = serializers.CharField(max_length=TITLE_MAX_LENGTH, allow_blank=True, required=False, default="")
    body = serializers.CharField(max_length=BODY_MAX_LENGTH, allow_blank=True, required=False, default="",
                                 trim_whitespace=False)  # fmt: skip


class ReviewPhotoSerializer(serializers.Serializer):
    url = serializers.CharField(source="large", help_text="The large rendition (JPEG).")
    thumbnail = serializers.CharField()
    width = serializers.IntegerField(help_text="Of the thumbnail.")
    height = serializers.IntegerField(help_text="Of the thumbnail.")


class ReviewReplyOutSerializer(serializers.Serializer):
    body = serializers.CharField()
    created_at = serializers.DateTimeField()


class ReviewSerializer(serializers.Serializer):
    """A review as buyers see it (``review_data``); ``status`` is ``published`` except in the
    author's own answers, where a held review says ``pending``."""

    id = serializers.IntegerField()
    rating = serializers.IntegerField()
    title = serializers.CharField()
    body = serializers.CharField(help_text="Plain text, as written: escape it when showing it as HTML.")
    author_name = serializers.CharField()
    verified_purchase = serializers.BooleanField()
    helpful_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    edited = serializers.BooleanField()
    status = serializers.CharField(default="published")
    photos = ReviewPhotoSerializer(many=True)
    reply = ReviewReplyOutSerializer(allow_null=True)


class ReportSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=REPORT_REASON_MAX_LENGTH)


class HelpfulSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    helpful_count = serializers.IntegerField()


class ReplySerializer(serializers.Serializer):
    body = serializers.CharField(max_length=REPLY_MAX_LENGTH)


class PhotoUploadSerializer(serializers.Serializer):
    # A FileField: reviews.photos checks the bytes with only the four decoders enabled.
    image = serializers.FileField(help_text="A JPEG, PNG, WebP or GIF, at most 10 MB.")
