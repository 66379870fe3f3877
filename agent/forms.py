from django import forms

from agent.models import Fault


class FaultForm(forms.ModelForm):
    class Meta:
        model = Fault
        fields = ["operation", "fail_next", "probability", "latency_ms", "crash"]

    def clean_probability(self):
        value = self.cleaned_data["probability"]
        if not 0.0 <= value <= 1.0:
            raise forms.ValidationError("A probability is between 0 and 1.")
        return value

    def clean(self):
        data = super().clean()
        if not any(
            [
                data.get("fail_next"),
                data.get("probability"),
                data.get("latency_ms"),
                data.get("crash"),
            ]
        ):
            raise forms.ValidationError("This fault would do nothing: set at least one effect.")
        return data
