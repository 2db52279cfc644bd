"""Notes in both languages on every kind, and an English translation beside each quote.

The existing notes are in English, so `note` becomes `note_en` and `note_zh` starts empty."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0009_catalog_version")]

    operations = [
        migrations.RenameField("source", "note", "note_en"),
        migrations.AlterField(
            "source", "note_en", models.TextField(blank=True, verbose_name="note (English)")
        ),
        migrations.AddField("source", "note_zh", models.TextField(blank=True, verbose_name="note (Chinese)")),
        migrations.RenameField("historicalsource", "note", "note_en"),
        migrations.AlterField(
            "historicalsource", "note_en", models.TextField(blank=True, verbose_name="note (English)")
        ),
        migrations.AddField(
            "historicalsource", "note_zh", models.TextField(blank=True, verbose_name="note (Chinese)")
        ),
        migrations.RenameField("state", "note", "note_en"),
        migrations.AlterField(
            "state", "note_en", models.TextField(blank=True, verbose_name="note (English)")
        ),
        migrations.AddField("state", "note_zh", models.TextField(blank=True, verbose_name="note (Chinese)")),
        migrations.RenameField("historicalstate", "note", "note_en"),
        migrations.AlterField(
            "historicalstate", "note_en", models.TextField(blank=True, verbose_name="note (English)")
        ),
        migrations.AddField(
            "historicalstate", "note_zh", models.TextField(blank=True, verbose_name="note (Chinese)")
        ),
        migrations.RenameField("summit", "note", "note_en"),
        migrations.AlterField(
            "summit", "note_en", models.TextField(blank=True, verbose_name="note (English)")
        ),
        migrations.AddField(
            "summit",
            "note_zh",
            models.TextField(
                blank=True,
                help_text="Disagreements between sources, inferences we made, caveats.",
                verbose_name="note (Chinese)",
            ),
        ),
        migrations.RenameField("historicalsummit", "note", "note_en"),
        migrations.AlterField(
            "historicalsummit", "note_en", models.TextField(blank=True, verbose_name="note (English)")
        ),
        migrations.AddField(
            "historicalsummit",
            "note_zh",
            models.TextField(
                blank=True,
                help_text="Disagreements between sources, inferences we made, caveats.",
                verbose_name="note (Chinese)",
            ),
        ),
        migrations.RenameField("exerciseseries", "note", "note_en"),
        migrations.AlterField(
            "exerciseseries", "note_en", models.TextField(blank=True, verbose_name="note (English)")
        ),
        migrations.AddField(
            "exerciseseries",
            "note_zh",
            models.TextField(
                blank=True,
                help_text="Disagreements between sources, inferences we made, caveats.",
                verbose_name="note (Chinese)",
            ),
        ),
        migrations.RenameField("historicalexerciseseries", "note", "note_en"),
        migrations.AlterField(
            "historicalexerciseseries", "note_en", models.TextField(blank=True, verbose_name="note (English)")
        ),
        migrations.AddField(
            "historicalexerciseseries",
            "note_zh",
            models.TextField(
                blank=True,
                help_text="Disagreements between sources, inferences we made, caveats.",
                verbose_name="note (Chinese)",
            ),
        ),
        migrations.RenameField("exercise", "note", "note_en"),
        migrations.AlterField(
            "exercise", "note_en", models.TextField(blank=True, verbose_name="note (English)")
        ),
        migrations.AddField(
            "exercise",
            "note_zh",
            models.TextField(
                blank=True,
                help_text="Disagreements between sources, inferences we made, caveats.",
                verbose_name="note (Chinese)",
            ),
        ),
        migrations.RenameField("historicalexercise", "note", "note_en"),
        migrations.AlterField(
            "historicalexercise", "note_en", models.TextField(blank=True, verbose_name="note (English)")
        ),
        migrations.AddField(
            "historicalexercise",
            "note_zh",
            models.TextField(
                blank=True,
                help_text="Disagreements between sources, inferences we made, caveats.",
                verbose_name="note (Chinese)",
            ),
        ),
        migrations.RenameField("crisis", "note", "note_en"),
        migrations.AlterField(
            "crisis", "note_en", models.TextField(blank=True, verbose_name="note (English)")
        ),
        migrations.AddField(
            "crisis",
            "note_zh",
            models.TextField(
                blank=True,
                help_text="Disagreements between sources, inferences we made, caveats.",
                verbose_name="note (Chinese)",
            ),
        ),
        migrations.RenameField("historicalcrisis", "note", "note_en"),
        migrations.AlterField(
            "historicalcrisis", "note_en", models.TextField(blank=True, verbose_name="note (English)")
        ),
        migrations.AddField(
            "historicalcrisis",
            "note_zh",
            models.TextField(
                blank=True,
                help_text="Disagreements between sources, inferences we made, caveats.",
                verbose_name="note (Chinese)",
            ),
        ),
        migrations.RenameField("milestone", "note", "note_en"),
        migrations.AlterField(
            "milestone", "note_en", models.TextField(blank=True, verbose_name="note (English)")
        ),
        migrations.AddField(
            "milestone",
            "note_zh",
            models.TextField(
                blank=True,
                help_text="Disagreements between sources, inferences we made, caveats.",
                verbose_name="note (Chinese)",
            ),
        ),
        migrations.RenameField("historicalmilestone", "note", "note_en"),
        migrations.AlterField(
            "historicalmilestone", "note_en", models.TextField(blank=True, verbose_name="note (English)")
        ),
        migrations.AddField(
            "historicalmilestone",
            "note_zh",
            models.TextField(
                blank=True,
                help_text="Disagreements between sources, inferences we made, caveats.",
                verbose_name="note (Chinese)",
            ),
        ),
        migrations.RenameField("citation", "note", "note_en"),
        migrations.AlterField(
            "citation", "note_en", models.TextField(blank=True, verbose_name="note (English)")
        ),
        migrations.AddField(
            "citation",
            "note_zh",
            models.TextField(
                blank=True,
                help_text="E.g. where this source disagrees with another.",
                verbose_name="note (Chinese)",
            ),
        ),
        migrations.RenameField("historicalcitation", "note", "note_en"),
        migrations.AlterField(
            "historicalcitation", "note_en", models.TextField(blank=True, verbose_name="note (English)")
        ),
        migrations.AddField(
            "historicalcitation",
            "note_zh",
            models.TextField(
                blank=True,
                help_text="E.g. where this source disagrees with another.",
                verbose_name="note (Chinese)",
            ),
        ),
        migrations.AddField(
            "citation",
            "translation_en",
            models.TextField(
                blank=True,
                help_text="Our English rendering of the quoted passage, shown to English readers as a translation.",
                verbose_name="English translation",
            ),
        ),
        migrations.AddField(
            "historicalcitation",
            "translation_en",
            models.TextField(
                blank=True,
                help_text="Our English rendering of the quoted passage, shown to English readers as a translation.",
                verbose_name="English translation",
            ),
        ),
    ]
