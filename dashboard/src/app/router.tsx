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
