import { Center, Loader } from "@mantine/core";
import { createBrowserRouter, Outlet, RouterProvider } from "react-router";
import { SignInForm } from "../features/auth/components/sign-in-form";
import { useSession } from "../features/auth/hooks/use-session";
import { HomeRoute, TenantRoute } from "./routes/tenant-root";

// Every route needs a session: without one, the sign-in form shows in place, and the same URL
// opens once signed in.
function RequireSession() {
  const { session, loading, signedOutReason } = useSession();
  if (loading)
    return (
      <Center mt="xl" role="status">
        <Loader aria-label="…" />
      </Center>
    );
  if (!session) return <SignInForm reason={signedOutReason} />;
  return <Outlet />;
}

export const routes = [
  // Reached from e-mailed links or before signing in: no session needed.
  { path: "/forgot-password", lazy: () => import("./routes/forgot-password") },
  { path: "/reset-password", lazy: () => import("./routes/reset-password") },
  { path: "/accept-invite", lazy: () => import("./routes/accept-invite") },
  {
    element: <RequireSession />,
    children: [
      { path: "/", element: <HomeRoute /> },
      {
        path: "/t/:tenantId",
        element: <TenantRoute />,
        children: [
          // One line per screen, each loaded on first use (routes/<screen>.tsx exports Component).
          { path: "today", lazy: () => import("./routes/today") },
          { path: "reservations", lazy: () => import("./routes/reservations") },
          { path: "reservations/:reservationId", lazy: () => import("./routes/reservation") },
          { path: "messages", lazy: () => import("./routes/messages") },
          { path: "whatsapp", lazy: () => import("./routes/whatsapp") },
          { path: "automations", lazy: () => import("./routes/automations") },
          { path: "metrics", lazy: () => import("./routes/metrics") },
          { path: "pms", lazy: () => import("./routes/pms") },
          { path: "team", lazy: () => import("./routes/team") },
          { path: "inbox/:conversationId?", lazy: () => import("./routes/inbox") },
          { path: "*", lazy: () => import("./routes/not-found") },
        ],
      },
      { path: "*", element: <HomeRoute /> },
    ],
  },
];

const router = createBrowserRouter(routes);

export function AppRouter() {
  return <RouterProvider router={router} />;
}
