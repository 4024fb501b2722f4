from django.db import migrations


def create_public_chat(apps, schema_editor):
    Conversation = apps.get_model("chat", "Conversation")
    Conversation.objects.get_or_create(
        slug="public-chat",
        defaults={
            "kind": "public",
            "title": "Public chat",
            "about": "The room every Parley user can open.",
        },
    )


class Migration(migrations.Migration):
    dependencies = [("chat", "0001_initial")]

    operations = [migrations.RunPython(create_public_chat, migrations.RunPython.noop)]
