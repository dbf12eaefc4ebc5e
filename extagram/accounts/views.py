from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django_ratelimit.decorators import ratelimit

from extagram.core.redirects import next_target

from .forms import SignupForm


@ratelimit(key="ip", rate=settings.SIGNUP_RATE, method="POST", block=True)
def signup(request):
    if request.user.is_authenticated:
        return redirect("feed")
    form = SignupForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            user = form.save()
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome to Extagram, %(name)s!") % {"name": user.username})
            return redirect("feed")
        return render(request, "accounts/signup.html", {"form": form}, status=400)
    return render(request, "accounts/signup.html", {"form": form})


login_limits = [
    ratelimit(key="ip", rate=settings.LOGIN_RATE, method="POST", block=True),
    ratelimit(key="post:username", rate=settings.LOGIN_RATE, method="POST", block=True),
]


@method_decorator(login_limits, name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_redirect_url(self):
        return next_target(self.request) or ""

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


class LogoutView(auth_views.LogoutView):
    def get_redirect_url(self):
        return next_target(self.request) or ""


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"

    def get_success_url(self):
        messages.success(self.request, _("Your password has been changed."))
        return super().get_success_url()

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)
