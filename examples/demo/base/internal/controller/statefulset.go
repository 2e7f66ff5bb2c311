package controller

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	dbv1 "example.com/db-operator/api/v1"
)

func (r *DatabaseReconciler) ensureStatefulSet(ctx context.Context, db *dbv1.Database) (*appsv1.StatefulSet, error) {
	sts := &appsv1.StatefulSet{}
	sts.Name = db.Name
	sts.Namespace = db.Namespace
	_, err := controllerutil.CreateOrUpdate(ctx, r.Client, sts, func() error {
		replicas := db.Spec.Replicas
		sts.Spec.Replicas = &replicas
		return controllerutil.SetControllerReference(db, sts, r.Scheme)
	})
	return sts, err
}
