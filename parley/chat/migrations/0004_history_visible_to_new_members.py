from django.db import migrations, models


def public_rooms_show_history(apps, schema_editor):
    """Anyone may open a public room, so hiding its history from joiners protects nothing:
    rooms keep showing it. Groups take the field's default (hidden)."""
    Conversation = apps.get_model("chat", "Conversation")
    Conversation.objects.filter(kind="public").update(history_visible_to_new_members=True)


class Migration(migrations.Migration):
    dependencies = [("chat", "0003_last_message_at_unindexed")]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="history_visible_to_new_members",
            field=models.BooleanField(
                default=False,
                help_text="Whether someone who joins (or rejoins) sees the messages from before "
                "they joined. Groups hide them unless their admins choose otherwise; public "
                "rooms show them.",
            ),
        ),
        migrations.RunPython(public_rooms_show_history, migrations.RunPython.noop),
    ]
