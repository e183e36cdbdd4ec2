import { Center, Loader } from "@mantine/core";
import { lazy, Suspense, type ComponentType } from "react";
import { BrowserRouter, Outlet, Route, Routes } from "react-router";
import { SignInForm } from "../features/auth/components/sign-in-form";
import { useSession } from "../features/auth/hooks/use-session";
import { HomeRoute, TenantRoute } from "./routes/tenant-root";

function Loading() {
  return (
    <Center mt="xl" role="status">
      <Loader aria-label="…" />
    </Center>
  );
}

// Every route needs a session: without one, the sign-in form shows in place, and the same URL
// opens once signed in.
function RequireSession() {
  const { session, loading, signedOutReason } = useSession();
  if (loading) return <Loading />;
  if (!session) return <SignInForm reason={signedOutReason} />;
  return <Outlet />;
}

interface Screen {
  path: string;
  // routes/<screen>.tsx exports Component; it is downloaded when the screen is first opened.
  lazy: () => Promise<{ Component: ComponentType }>;
}

// Reached from e-mailed links or before signing in: no session needed.
const publicScreens: Screen[] = [
  { path: "/forgot-password", lazy: () => import("./routes/forgot-password") },
  { path: "/reset-password", lazy: () => import("./routes/reset-password") },
  { path: "/accept-invite", lazy: () => import("./routes/accept-invite") },
];

// A hotel's screens, under /t/:tenantId. One line per screen.
const hotelScreens: Screen[] = [
  { path: "today", lazy: () => import("./routes/today") },
  { path: "inbox/:conversationId?", lazy: () => import("./routes/inbox") },
  { path: "reservations", lazy: () => import("./routes/reservations") },
  { path: "reservations/:reservationId", lazy: () => import("./routes/reservation") },
  { path: "messages", lazy: () => import("./routes/messages") },
  { path: "whatsapp", lazy: () => import("./routes/whatsapp") },
  { path: "pms", lazy: () => import("./routes/pms") },
  { path: "automations", lazy: () => import("./routes/automations") },
  { path: "team", lazy: () => import("./routes/team") },
  { path: "metrics", lazy: () => import("./routes/metrics") },
  { path: "*", lazy: () => import("./routes/not-found") },
];

// React.lazy once per screen, at load: a component made during render would remount each time.
function lazyElements(screens: Screen[]) {
  return screens.map(({ path, lazy: load }) => {
    const Screen = lazy(() => load().then((m) => ({ default: m.Component })));
    return { path, element: <Screen /> };
  });
}
const publicElements = lazyElements(publicScreens);
const hotelElements = lazyElements(hotelScreens);

// Declarative routing (BrowserRouter), not the data router: the app loads its data with TanStack
// Query, and the data router's loaders and actions would cost about 17 KB gzipped of the first
// download for nothing.
export function AppRouter() {
  return (
    <BrowserRouter>
      <Suspense fallback={<Loading />}>
        <Routes>
          {publicElements.map((r) => (
            <Route key={r.path} path={r.path} element={r.element} />
          ))}
          <Route element={<RequireSession />}>
            <Route path="/" element={<HomeRoute />} />
            <Route path="/t/:tenantId" element={<TenantRoute />}>
              {hotelElements.map((r) => (
                <Route key={r.path} path={r.path} element={r.element} />
              ))}
            </Route>
            <Route path="*" element={<HomeRoute />} />
          </Route>
        </Routes>
      </Suspense>
    </BrowserRouter>
  );
}
